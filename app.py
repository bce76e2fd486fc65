"""The application factory: `flask --app app run`."""
from flask import Flask
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from werkzeug.middleware.proxy_fix import ProxyFix

from wizard import (audit, auth, channels, consent, credentials, crypto, custom_webhooks, db, events, guided, i18n,
                    keywords, practice, sandboxes, settings, web, webhooks)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(settings.from_environment(app.instance_path, given=config))
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)

    db.init_app(app)
    crypto.init_app(app)
    i18n.init_app(app)
    csrf = CSRFProtect(app)
    Htmx(app)
    for blueprint in (web.bp, auth.bp, i18n.bp, guided.bp, credentials.bp, webhooks.bp, webhooks.receivers,
                      custom_webhooks.bp, custom_webhooks.receiver, keywords.bp, consent.bp, events.bp, channels.bp,
                      sandboxes.bp, audit.bp, practice.bp):
        app.register_blueprint(blueprint)
    # Providers can't send our CSRF token; receivers check signatures instead.
    csrf.exempt(webhooks.receivers)
    csrf.exempt(custom_webhooks.receiver)
    return app
