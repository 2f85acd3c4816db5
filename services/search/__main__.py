from services.search.app import build_app
from services.search.settings import SearchSettings
from shared.runtime import run_service

if __name__ == "__main__":
    run_service("search", SearchSettings, build_app)
