from services.web.app import build_app
from services.web.settings import WebSettings
from shared.runtime import run_service

if __name__ == "__main__":
    run_service("web", WebSettings, build_app)
