from services.ingest.app import build_app
from services.ingest.settings import IngestSettings
from shared.runtime import run_service

if __name__ == "__main__":
    run_service("ingest", IngestSettings, build_app)
