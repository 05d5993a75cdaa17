"""A Salesforce REST API emulator: a real HTTPS server the unmodified clients accept.

Imports nothing from the sync; the sync must not import it either (tests and
the demo start it as a separate process).
"""
