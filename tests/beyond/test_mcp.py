"""The lab as an MCP server (Gradio's ``launch(mcp_server=True)``, the ``gradio[mcp]`` extra): the app started on
127.0.0.1 lists its named endpoints as tools, described by their views' docstrings, and answers a tool call."""

from __future__ import annotations

import asyncio

import pytest

mcp = pytest.importorskip("mcp", reason="the gradio[mcp] extra of requirements.txt")

BEYOND_TOOLS = ("debias", "debias_on_model", "jitter_run", "grouping_run")


async def _session(url: str, work):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(url + "gradio_api/mcp/") as (read, write, _):
        async with ClientSession(read, write) as s:
            await s.initialize()
            return await work(s)


def test_launch_asks_for_the_mcp_server():
    import app

    assert app.launch_kwargs()["mcp_server"] is True


def test_tools_are_listed_with_what_they_return_and_one_answers(app_url):
    async def work(s):
        tools = {t.name: t for t in (await s.list_tools()).tools}
        res = await s.call_tool("debias", {"height": 1, "beta": 1, "peak_x": 16, "peak_y": 16})
        return tools, res

    tools, res = asyncio.run(_session(app_url, work))
    for name in BEYOND_TOOLS:
        assert name in tools, sorted(tools)
        assert "Returns:" in tools[name].description, name
    assert set(tools["debias"].inputSchema["properties"]) == {"height", "beta", "peak_x", "peak_y"}
    assert not res.isError
    text = "".join(getattr(c, "text", "") for c in res.content)
    # the view's own sentence, computed from the same numbers as the tab's (docs/facts.md 1.1: about 21 px)
    assert "soft-argmax lands **22.45 px** from the peak, Debias-IPR **under 0.001 px**" in text
