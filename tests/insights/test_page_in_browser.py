"""The AI-insights page in a real headless Chromium (Debian's, driven by Playwright): sign-in, triage, refusals.

How it looks (screenshots, the charts under the strict CSP) is in test_page_looks_in_browser.py.
"""

from __future__ import annotations

import time

import asyncpg
from one_loop_per_module import _function_scoped_runner  # noqa: F401 (the module's tests share one loop)
from playwright.async_api import Browser, expect

from adapters.http.server import RunningServer
from core import insights_access

from .browser import (
    SECTIONS,
    browser,
    entry,
    link_for,
    needs_chromium,
    shared_browser,
    sign_in,
    signed_in_page,
)
from .conftest import PRIVATE_ANSWER, PRIVATE_HISTORY, Seeded, base_url

__all__ = ["browser", "shared_browser"]  # fixtures: one Chromium for the module, a clean browser per test
pytestmark = needs_chromium


async def test_a_good_link_signs_an_admin_in_with_a_strict_http_only_cookie(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    page = await signed_in_page(browser, server, db_pool, seeded)

    assert page.url.startswith(base_url(server) + "/admin/ai-insights")
    await expect(page.locator("#actor")).to_have_text("root (discord)")
    for section in SECTIONS:
        await expect(page.locator(f"#{section}")).to_be_visible()
    [cookie] = await page.context.cookies()
    assert cookie["name"] == "marquee_insights"
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http here; https public URLs get Secure (see test_access)
    assert cookie["path"] == "/admin/ai-insights"
    assert 11.9 * 3600 < cookie["expires"] - time.time() <= 12 * 3600
    # the token is stored hashed: the raw cookie value is nowhere in the database
    assert await db_pool.fetchval(
        "SELECT count(*) FROM insights_sessions WHERE position($1::bytea in token_hash) > 0",
        cookie["value"].encode(),
    ) == 0


async def test_opening_a_link_does_not_use_it_up_only_pressing_sign_in_does(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    token = await link_for(db_pool, seeded.admin)
    preview = await (await browser.new_context()).new_page()
    await preview.goto(insights_access.sign_in_url(base_url(server), token))  # what a link preview does
    await preview.goto(insights_access.sign_in_url(base_url(server), token))

    page = await (await browser.new_context()).new_page()
    await sign_in(page, server, token)
    await expect(page.locator("#notice")).to_have_text("Signed in.")


async def test_an_expired_link_is_refused(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    token = await link_for(db_pool, seeded.admin)
    await db_pool.execute("UPDATE insights_sign_in_links SET expires_at = now() - interval '1 second'")
    page = await (await browser.new_context()).new_page()
    await sign_in(page, server, token)

    await expect(page.locator("#message")).to_contain_text("expired")
    assert await page.context.cookies() == []
    response = await page.goto(base_url(server) + "/admin/ai-insights")
    assert response is not None and response.status == 401


async def test_a_reused_link_is_refused(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    token = await link_for(db_pool, seeded.admin)
    first = await (await browser.new_context()).new_page()
    await sign_in(first, server, token)
    await expect(first.locator("#notice")).to_have_text("Signed in.")

    second = await (await browser.new_context()).new_page()
    await sign_in(second, server, token)
    await expect(second.locator("#message")).to_contain_text("already used")
    assert await second.context.cookies() == []


async def test_a_members_link_is_refused_and_a_demoted_admin_loses_the_page(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    page = await (await browser.new_context()).new_page()
    await sign_in(page, server, await link_for(db_pool, seeded.member))
    await expect(page.locator("#message")).to_contain_text("only for admins")
    assert await page.context.cookies() == []

    admin_page = await signed_in_page(browser, server, db_pool, seeded)
    await db_pool.execute("UPDATE users SET role = 'user' WHERE id = $1", seeded.admin)
    response = await admin_page.reload()
    assert response is not None and response.status == 401


async def test_an_action_without_the_csrf_token_is_refused_and_changes_nothing(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    page = await signed_in_page(browser, server, db_pool, seeded)
    url = f"{base_url(server)}/admin/ai-insights/queue/{seeded.genres}/priority"

    forged = await page.request.post(url, form={"new_priority": "5", "csrf": "not-the-token"})
    missing = await page.request.post(url, form={"new_priority": "5"})
    anonymous = await (await browser.new_context()).request.post(url, form={"new_priority": "5", "csrf": "x"})

    assert (forged.status, missing.status, anonymous.status) == (403, 403, 401)
    assert (await entry(db_pool, seeded.genres))["priority"] != 5
    assert await db_pool.fetchval("SELECT count(*) FROM ai_learning_queue_actions") == 0


async def test_every_triage_action_works_and_is_logged_with_who_and_when(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    page = await signed_in_page(browser, server, db_pool, seeded)
    genres = page.locator(f"#entry-{seeded.genres}")

    # set priority
    await genres.locator("summary").click()
    await genres.locator("select[name=new_priority]").select_option("5")
    await genres.get_by_role("button", name="Set priority").click()
    await expect(page.locator("#notice")).to_have_text("Priority set.")
    row = await entry(db_pool, seeded.genres)
    assert row["priority"] == 5 and row["priority_set_at"] is not None

    # in progress (still listed under the default "pending" filter? no: show any status from here on)
    await page.goto(base_url(server) + "/admin/ai-insights?status=any")
    genres = page.locator(f"#entry-{seeded.genres}")
    await genres.locator("summary").click()
    await genres.get_by_role("button", name="In progress").click()
    await expect(page.locator("#notice")).to_have_text("Status changed.")
    assert (await entry(db_pool, seeded.genres))["status"] == "in_progress"

    # resolved, with a note
    approvals = page.locator(f"#entry-{seeded.approvals}")
    await approvals.locator("summary").click()
    await approvals.locator("input[name=note]").fill("Overseerr now synced with an admin key")
    await approvals.get_by_role("button", name="Resolved").click()
    await expect(page.locator("#notice")).to_have_text("Status changed.")
    row = await entry(db_pool, seeded.approvals)
    assert row["status"] == "resolved" and row["resolved_at"] is not None
    assert row["resolution_note"] == "Overseerr now synced with an admin key"

    # won't fix, then reopen
    genres = page.locator(f"#entry-{seeded.genres}")
    await genres.locator("summary").click()
    await genres.get_by_role("button", name="Won't fix").click()
    await expect(page.locator("#notice")).to_have_text("Status changed.")
    assert (await entry(db_pool, seeded.genres))["status"] == "wont_fix"
    genres = page.locator(f"#entry-{seeded.genres}")
    await genres.locator("summary").click()
    await genres.get_by_role("button", name="Reopen").click()
    await expect(page.locator("#notice")).to_have_text("Status changed.")
    assert (await entry(db_pool, seeded.genres))["status"] == "pending"

    # merge duplicates: keep one, tick the other
    before_keep = await entry(db_pool, seeded.bandwidth)
    before_dup = await entry(db_pool, seeded.bandwidth_duplicate)
    await page.locator(f"#entry-{seeded.bandwidth} input[name=keep]").check()
    await page.locator(f"#entry-{seeded.bandwidth_duplicate} input[name=duplicate]").check()
    await page.click("#merge")
    await expect(page.locator("#notice")).to_have_text("Duplicates merged.")
    kept = await entry(db_pool, seeded.bandwidth)
    merged = await entry(db_pool, seeded.bandwidth_duplicate)
    assert kept["times_asked"] == before_keep["times_asked"] + before_dup["times_asked"]
    assert kept["suggested_solution"] == "Sync Tautulli stream history"
    assert merged["status"] == "resolved" and merged["merged_into"] == seeded.bandwidth
    await expect(page.locator(f"#entry-{seeded.bandwidth_duplicate}")).to_contain_text("Merged into")

    actions = await db_pool.fetch(
        "SELECT queue_id, action, detail, actor, acted_at FROM ai_learning_queue_actions ORDER BY id"
    )
    assert [(a["queue_id"], a["action"]) for a in actions] == [
        (seeded.genres, "set_priority"),
        (seeded.genres, "in_progress"),
        (seeded.approvals, "resolved"),
        (seeded.genres, "wont_fix"),
        (seeded.genres, "reopened"),
        (seeded.bandwidth_duplicate, "merged_into"),
        (seeded.bandwidth, "absorbed"),
    ]
    assert {a["actor"] for a in actions} == {"root (discord)"}
    assert all(a["acted_at"] is not None for a in actions)
    assert actions[2]["detail"] == "Overseerr now synced with an admin key"
    await expect(page.locator("#actions tbody tr")).to_have_count(7)
    await expect(page.locator("#actions")).to_contain_text("root (discord)")


async def test_a_failed_action_says_why_on_the_page(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    page = await signed_in_page(browser, server, db_pool, seeded)
    await page.locator(f"#entry-{seeded.bandwidth} input[name=keep]").check()
    await page.click("#merge")  # nothing ticked as a duplicate

    await expect(page.locator("#error")).to_contain_text("at least one duplicate")
    assert await db_pool.fetchval("SELECT count(*) FROM ai_learning_queue_actions") == 0


async def test_the_queue_filters_by_status_type_and_priority(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    page = await signed_in_page(browser, server, db_pool, seeded)
    entries = page.locator("#queue article.entry")
    await expect(entries).to_have_count(4)  # the pending ones by default

    await page.select_option("#queue select[name=status]", "wont_fix")
    await page.click("#apply-filters")
    await expect(entries).to_have_count(1)
    await expect(entries.first).to_contain_text("What is the weather like?")

    await page.select_option("#queue select[name=status]", "any")
    await page.select_option("#queue select[name=type]", "operations")
    await page.click("#apply-filters")
    await expect(entries).to_have_count(2)

    top = (await entry(db_pool, seeded.bandwidth))["priority"]
    await page.select_option("#queue select[name=priority]", str(top))
    await page.click("#apply-filters")
    await expect(entries).to_have_count(1)
    await expect(entries.first).to_contain_text("How much bandwidth did streams use last month?")


async def test_no_member_identity_and_no_chat_history_on_the_page(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    page = await signed_in_page(browser, server, db_pool, seeded)
    await page.goto(base_url(server) + "/admin/ai-insights?status=any&days=365")
    html = await page.content()

    assert "alice" not in html
    assert PRIVATE_ANSWER not in html and PRIVATE_HISTORY not in html
    assert "question 7" not in html  # answers' own question text is not listed either, only queue rows


async def test_signing_out_ends_the_session(
    browser: Browser, server: RunningServer, db_pool: asyncpg.Pool, seeded: Seeded
) -> None:
    page = await signed_in_page(browser, server, db_pool, seeded)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator("#message")).to_have_text("Signed out.")
    response = await page.goto(base_url(server) + "/admin/ai-insights")
    assert response is not None and response.status == 401
