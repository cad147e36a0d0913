from estatedesk.web.service import run

from .app import create_app

run("dispatch", create_app)
