"""``/admin/ai-insights``: the admins' page on what the assistant struggles with, and queue triage.

Rendered on the server with Jinja2 (no JavaScript at all). Sign-in is a one-time
link (``core.insights_access``): opening it shows a button, and only pressing it
uses the link up, so a chat client's link preview cannot burn it. Every POST
needs the session cookie and its CSRF token; each action answers with a redirect
back to the page (post/redirect/get), keeping the queue filters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import jinja2
from aiohttp import web

from adapters.http import api_log_marker
from adapters.http.insights_charts import bar_percent, calibration_chart, confidence_vs_success_chart
from core import insights_access, insights_page
from core.engines.offline.corpus_reliability import corpus_reliability
from core.insights_access import PAGE_PATH, SIGN_IN_PATH, AdminSession
from core.page_charts import PageChart, PageCharts

log = logging.getLogger(__name__)

COOKIE_NAME = "marquee_insights"
DEFAULT_DAYS = 30
ALLOWED_DAYS = (7, 30, 90, 365)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}

NOTICES = {
    "priority": "Priority set.",
    "status": "Status changed.",
    "merged": "Duplicates merged.",
    "signed-in": "Signed in.",
}


@dataclass(frozen=True)
class InsightsPageConfig:
    timezone: str = "UTC"
    session_ttl: timedelta = insights_access.DEFAULT_SESSION_TTL
    secure_cookie: bool = False


CONFIG_KEY = web.AppKey("insights_config", InsightsPageConfig)
POOL_KEY = web.AppKey("insights_pool", asyncpg.Pool)
TEMPLATES_KEY = web.AppKey("insights_templates", jinja2.Environment)
CHARTS_KEY = web.AppKey("insights_charts", PageCharts)


def _templates(timezone: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("adapters.http", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda share: f"{share * 100:.0f}%"
    env.filters["short"] = lambda value: str(value)[:8]
    zone = ZoneInfo(timezone)
    env.filters["when"] = lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    env.globals.update(
        bar_percent=bar_percent,
        calibration_chart=calibration_chart,
        confidence_vs_success_chart=confidence_vs_success_chart,
        PAGE_PATH=PAGE_PATH,
        SIGN_IN_PATH=SIGN_IN_PATH,
    )
    return env


def _html(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    body = request.app[TEMPLATES_KEY].get_template(template).render(**context)
    return web.Response(text=body, status=status, content_type="text/html", headers=SECURITY_HEADERS)


def _refused(request: web.Request, status: int, message: str) -> web.Response:
    return _html(request, "insights_message.html", status, title="AI insights", message=message)


async def _session(request: web.Request) -> tuple[str, AdminSession] | None:
    token = request.cookies.get(COOKIE_NAME, "")
    if not token:
        return None
    async with request.app[POOL_KEY].acquire() as conn:
        session = await insights_access.session_for(conn, token)
    if session is None:
        return None
    api_log_marker.mark_authenticated()
    return token, session


_NOT_SIGNED_IN = (
    "Sign in first: ask /insights in the admin channel (or run `marquee insights --link` on the host) "
    "and open the link it gives you."
)


# -- sign-in -------------------------------------------------------------------------------------


async def show_sign_in(request: web.Request) -> web.Response:
    """A button, not a sign-in: link previews fetch this page, and must not use the link up."""
    token = request.query.get("token", "")
    return _html(request, "insights_sign_in.html", token=token)


async def sign_in(request: web.Request) -> web.Response:
    form = await request.post()
    token = str(form.get("token", ""))
    config = request.app[CONFIG_KEY]
    try:
        async with request.app[POOL_KEY].acquire() as conn:
            session_token, session = await insights_access.redeem_sign_in_link(conn, token, config.session_ttl)
    except insights_access.SignInRefused as refused:
        log.info("insights sign-in refused: %s", refused)
        return _refused(request, 403, str(refused))
    api_log_marker.mark_authenticated()
    log.info("insights page: %s signed in", session.actor)
    response = web.Response(status=303, headers={**SECURITY_HEADERS, "Location": f"{PAGE_PATH}?notice=signed-in"})
    response.set_cookie(
        COOKIE_NAME,
        session_token,
        path=PAGE_PATH,
        max_age=int(config.session_ttl.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=config.secure_cookie,
    )
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    signed_in = await _checked_post(request)
    if isinstance(signed_in, web.Response):
        return signed_in
    token, _session_data, _form = signed_in
    async with request.app[POOL_KEY].acquire() as conn:
        await insights_access.end_session(conn, token)
    response = _refused(request, 200, "Signed out.")
    response.del_cookie(COOKIE_NAME, path=PAGE_PATH)
    return response


# -- the page -------------------------------------------------------------------------------------


def _filters(values: Any) -> tuple[insights_page.QueueFilter, int]:
    """Queue filters and the period from query or form values; anything unknown means "any"."""
    status = values.get("status", "pending")
    if status not in insights_page.QUEUE_STATUSES:
        status = None
    priority_text = str(values.get("priority", ""))
    priority = int(priority_text) if priority_text in {str(p) for p in insights_page.PRIORITIES} else None
    question_type = str(values.get("type", "")).strip()[:100] or None
    days_text = str(values.get("days", DEFAULT_DAYS))
    days = int(days_text) if days_text in {str(d) for d in ALLOWED_DAYS} else DEFAULT_DAYS
    return insights_page.QueueFilter(status, question_type, priority), days


def _page_query(filters: insights_page.QueueFilter, days: int, **extra: str) -> str:
    params = {
        "status": filters.status or "any",
        "type": filters.question_type or "",
        "priority": str(filters.priority or ""),
        "days": str(days),
        **extra,
    }
    return urlencode({k: v for k, v in params.items() if v})


async def show_page(request: web.Request) -> web.Response:
    signed_in = await _session(request)
    if signed_in is None:
        return _refused(request, 401, _NOT_SIGNED_IN)
    return await _render_page(request, signed_in[1], request.query)


async def _render_page(
    request: web.Request, session: AdminSession, values: Any, error: str | None = None, status: int = 200
) -> web.Response:
    filters, days = _filters(values)
    async with request.app[POOL_KEY].acquire() as conn:
        data = await insights_page.load_page(conn, filters, days, request.app[CONFIG_KEY].timezone)
    charts: list[PageChart] = []
    if CHARTS_KEY in request.app:
        try:
            charts = await request.app[CHARTS_KEY].charts(days, session.user_id)
        except (asyncpg.PostgresError, OSError):
            # The charts are a picture of what the tables say; the rest of the page still helps.
            log.exception("insights page: the charts could not be read")
    return _html(
        request,
        "insights.html",
        status,
        data=data,
        charts=charts,
        corpus=corpus_reliability(),
        session=session,
        filters=filters,
        days=days,
        allowed_days=ALLOWED_DAYS,
        statuses=insights_page.QUEUE_STATUSES,
        priorities=insights_page.PRIORITIES,
        return_query=_page_query(filters, days),
        notice=NOTICES.get(str(values.get("notice", ""))),
        error=error,
        timezone=request.app[CONFIG_KEY].timezone,
    )


# -- actions --------------------------------------------------------------------------------------


async def _checked_post(request: web.Request) -> tuple[str, AdminSession, Any] | web.Response:
    """The session and form of a POST, or the refusal: no session (401), bad CSRF token (403)."""
    signed_in = await _session(request)
    if signed_in is None:
        return _refused(request, 401, _NOT_SIGNED_IN)
    token, session = signed_in
    form = await request.post()
    if not insights_access.csrf_token_matches(token, str(form.get("csrf", ""))):
        log.warning("insights page: %s sent a form without a valid CSRF token", session.actor)
        return _refused(request, 403, "This form has expired or did not come from this page. Reload and try again.")
    return token, session, form


def _entry_id(request: web.Request) -> UUID | None:
    try:
        return UUID(request.match_info["entry_id"])
    except ValueError:
        return None


async def _act(request: web.Request, notice: str, action: Any) -> web.StreamResponse:
    checked = await _checked_post(request)
    if isinstance(checked, web.Response):
        return checked
    _token, session, form = checked
    filters, days = _filters(form)
    try:
        async with request.app[POOL_KEY].acquire() as conn:
            await action(conn, session, form)
    except insights_page.InsightsActionError as exc:
        return await _render_page(request, session, form, error=str(exc), status=409)
    except ValueError:
        return await _render_page(request, session, form, error="That request was not understood.", status=400)
    raise web.HTTPSeeOther(f"{PAGE_PATH}?{_page_query(filters, days, notice=notice)}#queue")


async def set_priority(request: web.Request) -> web.StreamResponse:
    entry_id = _entry_id(request)

    async def action(conn: asyncpg.Connection, session: AdminSession, form: Any) -> None:
        if entry_id is None:
            raise insights_page.InsightsActionError("That learning-queue entry does not exist.")
        await insights_page.set_priority(conn, entry_id, int(str(form.get("new_priority", ""))), session.actor)

    return await _act(request, "priority", action)


async def set_status(request: web.Request) -> web.StreamResponse:
    entry_id = _entry_id(request)

    async def action(conn: asyncpg.Connection, session: AdminSession, form: Any) -> None:
        if entry_id is None:
            raise insights_page.InsightsActionError("That learning-queue entry does not exist.")
        new_status = str(form.get("new_status", ""))
        if new_status not in insights_page.QUEUE_STATUSES:
            raise insights_page.InsightsActionError("Unknown status.")
        await insights_page.set_status(
            conn, entry_id, new_status, str(form.get("note", "")), session.actor
        )

    return await _act(request, "status", action)


async def merge(request: web.Request) -> web.StreamResponse:
    async def action(conn: asyncpg.Connection, session: AdminSession, form: Any) -> None:
        keep = str(form.get("keep", ""))
        if not keep:
            raise insights_page.InsightsActionError("Choose the entry to keep (the “keep” button of one entry).")
        duplicates = [UUID(str(value)) for value in form.getall("duplicate", [])]
        await insights_page.merge_duplicates(conn, UUID(keep), duplicates, session.actor)

    return await _act(request, "merged", action)


async def stylesheet(request: web.Request) -> web.Response:
    env = request.app[TEMPLATES_KEY]
    assert env.loader is not None
    css = env.loader.get_source(env, "insights.css")[0]
    return web.Response(
        text=css, content_type="text/css", headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"}
    )


async def _finish_chart_redraws(app: web.Application) -> None:
    await app[CHARTS_KEY].settle()


def register_insights_page(
    app: web.Application, pool: asyncpg.Pool, config: InsightsPageConfig, charts: PageCharts | None = None
) -> None:
    """The page's routes; with ``charts``, the server-wide chat charts are on it too."""
    app[POOL_KEY] = pool
    if charts is not None:
        app[CHARTS_KEY] = charts
        app.on_cleanup.append(_finish_chart_redraws)
    app[CONFIG_KEY] = config
    app[TEMPLATES_KEY] = _templates(config.timezone)
    app.router.add_get(PAGE_PATH, show_page)
    app.router.add_get(PAGE_PATH + "/insights.css", stylesheet)
    app.router.add_get(SIGN_IN_PATH, show_sign_in)
    app.router.add_post(SIGN_IN_PATH, sign_in)
    app.router.add_post(PAGE_PATH + "/sign-out", sign_out)
    app.router.add_post(PAGE_PATH + "/queue/merge", merge)
    app.router.add_post(PAGE_PATH + "/queue/{entry_id}/priority", set_priority)
    app.router.add_post(PAGE_PATH + "/queue/{entry_id}/status", set_status)
