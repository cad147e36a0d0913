from estatedesk.web.service import run

from .app import create_app

run("intake", create_app)
