"""Serve the sample: ``python examples/service/run.py`` (http://127.0.0.1:8000/docs)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import uvicorn
from crm_recovery.app import create_app

if __name__ == "__main__":
    # The desk logs each plan, grant and approval with cx_* fields (see the guide).
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(create_app(), host="127.0.0.1", port=8000)
