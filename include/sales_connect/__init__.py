"""The Sales Connect store: the database the sales-engagement app and the sync share.

Modules, one job each:
- ``models``: the schema contract (SQLAlchemy 2 models, vocabularies).
- ``db``: where the database is (``resolve_url``), engines, ``migrate`` and ``Store``.
- ``migrations``: the Alembic environment and revisions, shipped in the package.
- ``changes``: change capture (``StoreSession``), ``changes_since``, ``max_change_seq``.
- ``repository``: the API the app, the UI and the sync's tests call.
- ``validation`` / ``errors``: the app's field rules and the errors the API raises.

``python -m sales_connect migrate [--url URL]`` creates or upgrades the schema.
"""
