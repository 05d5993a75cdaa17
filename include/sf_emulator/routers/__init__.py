"""FastAPI routers, one per resource family; `sf_emulator.app.create_app` mounts them."""
