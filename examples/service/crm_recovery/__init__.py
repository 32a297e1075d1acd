"""A sample recovery service for a CRM: copy it, then change the mapping and the roster.

``create_app()`` builds the FastAPI app; ``python examples/service/run.py`` serves it.
"""

from crm_recovery.app import Settings, create_app

__all__ = ["Settings", "create_app"]
