from estatedesk.web.service import run

from .app import create_app

run("console", create_app)
