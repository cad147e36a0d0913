from estatedesk.web.service import run

from .app import create_app

run("analytics", create_app)
