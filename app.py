"""The application factory: `flask --app app run`."""
from flask import Flask
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from werkzeug.middleware.proxy_fix import ProxyFix

from wizard import credentials
from wizard.audit import views as audit
from wizard.auth import views as auth
from wizard.channels import views as channels
from wizard.consent import views as consent
from wizard.core import crypto, db, ids, settings
from wizard.events import views as events
from wizard.guided import views as guided
from wizard.health import views as health
from wizard.keywords import views as keywords
from wizard.practice import views as practice
from wizard.sandboxes import views as sandboxes
from wizard.shell import i18n
from wizard.shell import views as shell
from wizard.transfer import views as transfer
from wizard.webhooks import custom_receiver as custom_webhook_receiver
from wizard.webhooks import custom_views as custom_webhooks
from wizard.webhooks import receivers as twilio_receivers
from wizard.webhooks import views as webhooks


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
    # Before the routes are added: every <int:...> is then an id the database can hold, or a 404.
    app.url_map.converters["int"] = ids.IdConverter
    for blueprint in (shell.bp, auth.bp, i18n.bp, guided.bp, credentials.bp, webhooks.bp, twilio_receivers.bp,
                      custom_webhooks.bp, custom_webhook_receiver.bp, keywords.bp, consent.bp, events.bp, channels.bp,
                      sandboxes.bp, audit.bp, practice.bp, health.bp, transfer.bp):
        app.register_blueprint(blueprint)
    # Providers can't send our CSRF token; receivers check signatures instead.
    csrf.exempt(twilio_receivers.bp)
    csrf.exempt(custom_webhook_receiver.bp)
    return app
