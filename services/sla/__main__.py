from estatedesk.web.service import run

from .app import create_app

run("sla", create_app)
