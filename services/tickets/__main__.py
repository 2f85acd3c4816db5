from services.tickets.app import build_app
from services.tickets.settings import TicketsSettings
from shared.runtime import run_service

if __name__ == "__main__":
    run_service("tickets", TicketsSettings, build_app)
