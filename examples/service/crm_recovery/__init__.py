"""A sample recovery service for a CRM: copy it, then change the mapping and the roster.

``crm_recovery.app.create_app()`` builds the FastAPI app; ``python examples/service/run.py``
serves it. ``crm_recovery.mapping`` (the ticket → case mapping) needs no FastAPI.
"""
