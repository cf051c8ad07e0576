"""A browser tab without the browser: Streamlit's own websocket protocol, spoken as the 1.67 frontend speaks it.

For benches that need many sessions on few cores (bench/soak.py, bench/load_ws.py). What the frontend does
and this module copies (read from streamlit's static/js/index.*.js):
- A page load is an HTTP GET of the page (cookies set there are kept and sent with the websocket, as a
  browser's cookie jar does), `/_stcore/health` and `/_stcore/host-config`, then a websocket to
  `/_stcore/stream` (subprotocol `streamlit`) whose first `rerun_script` names the page (`page_name`) and
  carries the query string. Later reruns name the page by `page_script_hash` instead; a move through the
  sidebar sends the new page's hash, an empty query string and only the sidebar's widget states.
- Every rerun carries the widget states the tab holds (here: the values this client set, e.g. a canvas
  drawing, kept until the page changes) plus a pressed button's `trigger_value` once, and the hashes of
  the cacheable messages it already has (`cached_message_hashes`); the server answers those with `ref_hash`.
- `auto_rerun` (a `@st.fragment(run_every=...)` on the page) starts a timer that sends a rerun with that
  `fragment_id` and `is_auto_rerun` every interval, whether or not the last one has finished, as the
  frontend's `setInterval` does; `stop_auto_rerun`, a page change and the start of every full run stop it
  (a full run sends `auto_rerun` again for the fragments that still poll).
- Every image a run shows (`/media/...` URLs, content-addressed, so new ones after most polls) is fetched
  over HTTP once, as an <img> tag does; `images_loaded(page)` waits for a run's images.
What it records beside the pages: a trace of run starts and ends, fragment timers and sends (`Tab.trace`, for a
participant that failed), and runs whose `script_finished` never came before the next run's `new_session`
(`unfinished_runs`: Streamlit 1.67 dropped a run's end that way when a fragment rerun arrived as it ended, see
ui/server/fragment_race.py; the frontend keeps showing the elements of such a run, this client counts it and
waits for a run that finished).
What it leaves out: the widget states of widgets it never set (the server keeps their last values either way),
and, unless given their list (`static_paths`, recorded by bench/load.py --record-static), the ~126 static files
(JavaScript, CSS, fonts) a fresh browser fetches on its first page load; with the list it fetches them once,
6 at a time as a browser does over HTTP/1.1, and then keeps them (a browser's cache).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from service.workspace_cookie import COOKIE_NAME  # kept from the page load, sent with the websocket

WAIT_SECONDS = 120.0  # the longest one awaited page state may take before it counts as an error
CONNECTIONS_PER_HOST = 6  # what Chromium opens to one host over HTTP/1.1


@dataclass
class Page:
    """What one script run (the whole page, or one fragment of it) drew."""

    fragment_ids: tuple[str, ...] = ()  # empty: a full run of the page
    buttons: dict[str, tuple[str, bool]] = field(default_factory=dict)  # label -> (widget id, disabled)
    texts: list[str] = field(default_factory=list)  # markdown, alerts, captions, progress and plain text
    errors: list[str] = field(default_factory=list)  # exception elements: what a user sees as a traceback box
    images: dict[str, str] = field(default_factory=dict)  # caption -> URL
    components: dict[str, str] = field(default_factory=dict)  # Components v2 name -> element (widget) id
    charts: int = 0  # plotly charts
    finished_at: float = 0.0  # time.monotonic() of its script_finished
    loading: asyncio.Task | None = None  # fetching its images, as the browser does once it shows them

    def has(self, part: str) -> bool:
        return any(part in t for t in self.texts)

    def add(self, element) -> None:
        """Keep what a participant reads or acts on from one new_element delta."""
        what = element.WhichOneof("type")
        if what == "button":
            self.buttons[element.button.label] = (element.button.id, element.button.disabled)
        elif what in ("markdown", "alert"):
            self.texts.append(getattr(element, what).body)
        elif what in ("progress", "text"):
            self.texts.append(getattr(element, what).body if what == "text" else element.progress.text)
        elif what == "exception":
            self.errors.append(f"{element.exception.type}: {element.exception.message}")
        elif what == "imgs":
            for img in element.imgs.imgs:
                self.images[img.caption] = img.url
        elif what == "bidi_component":
            self.components[element.bidi_component.component_name] = element.bidi_component.id
        elif what == "plotly_chart":
            self.charts += 1


class Tab:
    """One browser tab's session: its cookies, its websocket, the runs it has seen and its fragment timers."""

    def __init__(
        self,
        url: str,
        cookies: dict[str, str] | None = None,
        wait_seconds: float = WAIT_SECONDS,
        static_paths: Sequence[str] = (),
    ) -> None:
        self.url = url.rstrip("/")
        self.static_paths = list(static_paths)  # the frontend's files a fresh browser fetches (none: skipped)
        self.static_fetched = 0
        self.wait_seconds = wait_seconds
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.given_cookies = dict(cookies or {})
        self.ws = None
        self.query = ""
        self.page_name = ""  # the url path of the page shown ("" is the default page)
        self.page_hash = ""  # its page_script_hash, once the server has said it
        self.pages_by_path: dict[str, str] = {}  # url path -> page_script_hash, from the navigation message
        self.widgets: dict[str, WidgetState] = {}  # values this tab holds and sends with every rerun
        self.cache: dict[str, ForwardMsg] = {}  # cacheable messages by hash, as the frontend keeps them
        self.timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, timer)
        self.last = Page()  # the latest full run that finished
        self.runs: list[Page] = []  # every run that finished, full or fragment, in order
        self.errors: list[str] = []  # exceptions, page-not-found and session events, as they came
        self.closed_by_server = False  # the websocket ended without this tab closing it: a disconnect
        self._closing = False
        self.auto_reruns = 0  # fragment reruns sent
        self.full_reruns = 0  # full reruns sent (page loads, moves, clicks, widget values)
        self.unfinished_runs = 0  # runs whose script_finished never came (the next run's new_session came instead)
        self.trace: list[tuple[float, str]] = []  # (time.monotonic(), what) for run starts/ends and fragment timers
        self.fetched: set[str] = set()  # image URLs already loaded (the browser's cache)
        self._current: Page | None = None
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task | None = None

    # -- HTTP, as the page load and <img> tags do it ---------------------------------------------------

    def _get(self, path: str) -> bytes:
        with self.opener.open(f"{self.url}/{path.lstrip('/')}", timeout=self.wait_seconds) as response:
            return response.read()

    async def fetch(self, path_or_url: str) -> bytes:
        """GET a path or media URL of the server (a thread: urllib blocks), with the tab's cookies."""
        path = path_or_url[len(self.url) :] if path_or_url.startswith(self.url) else path_or_url
        return await asyncio.to_thread(self._get, path)

    async def _load(self, urls: list[str]) -> dict[str, bytes | BaseException]:
        got = await asyncio.gather(*(self.fetch(u) for u in urls), return_exceptions=True)
        return dict(zip(urls, got, strict=True))

    async def images_loaded(self, page: Page) -> dict[str, bytes | BaseException]:
        """The run's new images, once fetched (an error in place of one that failed)."""
        return await page.loading if page.loading is not None else {}

    async def load_static(self) -> None:
        """Fetch the frontend's files as a fresh browser does, once per tab (its cache keeps them after)."""
        paths, self.static_paths = self.static_paths, []
        slots = asyncio.Semaphore(CONNECTIONS_PER_HOST)

        async def one(path: str) -> None:
            async with slots:
                try:
                    await self.fetch(path)
                except OSError as exc:
                    raise RuntimeError(
                        f"a static file the browser fetched is not served: {path} ({exc}); record the list again"
                        " with bench/load.py --record-static"
                    ) from None
                self.static_fetched += 1

        await asyncio.gather(*(one(p) for p in paths))

    def cookie(self, name: str = COOKIE_NAME) -> str | None:
        """A cookie the server set for this tab (or one it was given)."""
        for c in self.jar:
            if c.name == name:
                return c.value
        return self.given_cookies.get(name)

    def _cookie_header(self) -> str:
        pairs = {**self.given_cookies, **{c.name: c.value for c in self.jar}}
        return "; ".join(f"{k}={v}" for k, v in pairs.items())

    # -- the session ------------------------------------------------------------------------------------

    async def open(self, page_name: str, query: str = "") -> Page:
        """Load the page as a browser does and wait for its first full run."""
        self.page_name, self.query = page_name, query
        await self.fetch(f"/{page_name}" + (f"?{query}" if query else ""))
        await self.load_static()
        await self.fetch("/_stcore/health")
        await self.fetch("/_stcore/host-config")
        headers = {"Cookie": self._cookie_header()} if self._cookie_header() else None
        ws_url = self.url.replace("http://", "ws://", 1) + "/_stcore/stream"
        # No client pings: a browser never sends them, and on a starved server their 20 s timeout would
        # close the websocket from this side and count as a disconnect the browser would not have seen.
        self.ws = await websockets.connect(
            ws_url, subprotocols=["streamlit"], max_size=None, additional_headers=headers, ping_interval=None
        )
        self._reader = asyncio.create_task(self._read())
        return await self.rerun()

    async def close(self) -> None:
        self._closing = True
        self._stop_timers()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def rerun(self, press: str = "", values: dict[str, str] | None = None) -> Page:
        """A full run of the current page, pressing one button or setting JSON widget values; its result."""
        if values:
            for widget_id, json_value in values.items():
                state = WidgetState(id=widget_id)
                state.json_value = json_value
                self.widgets[widget_id] = state
        trigger = None
        if press:
            widget_id, disabled = self.last.buttons[press]
            if disabled:
                raise RuntimeError(f"{press!r} is disabled on {self.page_name}: {self.last.texts[-4:]}")
            trigger = WidgetState(id=widget_id, trigger_value=True)
        sent = time.monotonic()
        await self._send(trigger=trigger)
        return await self.wait(lambda p: not p.fragment_ids, since=sent)

    async def navigate(self, url_path: str) -> Page:
        """Move to another page through the sidebar: its hash, no query, the main page's widgets dropped."""
        self._stop_timers(why="navigate")
        self.widgets.clear()
        self.page_name, self.query = url_path, ""
        self.page_hash = self.pages_by_path[url_path]
        sent = time.monotonic()
        await self._send()
        return await self.wait(lambda p: not p.fragment_ids, since=sent)

    async def wait(self, accept, since: float | None = None, seconds: float | None = None) -> Page:
        """The first finished run (after `since`, else the latest full one or later) for which accept(page)."""
        seconds = self.wait_seconds if seconds is None else seconds
        seen = 0 if since is not None else len(self.runs)
        if since is None and accept(self.last):
            return self.last
        deadline = time.monotonic() + seconds
        async with self._changed:
            while True:
                for page in self.runs[seen:]:
                    if (since is None or page.finished_at >= since) and accept(page):
                        return page
                seen = len(self.runs)
                if self.closed_by_server:
                    code, reason = self.ws.close_code, self.ws.close_reason
                    raise ConnectionError(f"the websocket closed on {self.page_name} (code {code} {reason!r})")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"nothing acceptable on {self.page_name} in {seconds:g} s: {self.last.texts[-4:]}"
                    )
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    pass

    async def wait_text(self, *parts: str, seconds: float | None = None) -> Page:
        """The first run (the latest full one counts) that shows one of parts."""
        return await self.wait(lambda p: any(p.has(part) for part in parts), seconds=seconds)

    # -- what goes over the wire ------------------------------------------------------------------------

    async def _send(self, trigger: WidgetState | None = None, fragment_id: str = "") -> None:
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = self.query
        if self.page_hash:
            rerun.page_script_hash = self.page_hash
        else:
            rerun.page_name = self.page_name
        rerun.widget_states.widgets.extend(self.widgets.values())
        if trigger is not None:
            rerun.widget_states.widgets.append(trigger)
        if fragment_id:
            rerun.fragment_id, rerun.is_auto_rerun = fragment_id, True
            self.auto_reruns += 1
        else:
            self.full_reruns += 1
        self._note(f"sent {'fragment ' + fragment_id[-6:] if fragment_id else 'rerun'}{' (button)' if trigger is not None else ''}")
        rerun.cached_message_hashes.extend(self.cache)
        info = rerun.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url, info.is_embedded, info.color_scheme = f"{self.url}/{self.page_name}", False, "light"
        await self.ws.send(msg.SerializeToString())

    async def _poll(self, fragment_id: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._send(fragment_id=fragment_id)

    def _stop_timers(self, fragment_ids: list[str] | None = None, why: str = "") -> None:
        for fid in list(self.timers) if fragment_ids is None else fragment_ids:
            if fid in self.timers:
                self.timers.pop(fid)[1].cancel()
                self._note(f"timer {fid[-6:]} stopped: {why}")

    def _note(self, what: str) -> None:
        self.trace.append((time.monotonic(), what))

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                fwd = ForwardMsg()
                fwd.ParseFromString(raw)
                await self._handle(fwd)
        except websockets.ConnectionClosedError:
            pass
        finally:
            self.closed_by_server = not self._closing
            self._stop_timers()
            async with self._changed:
                self._changed.notify_all()

    async def _handle(self, fwd: ForwardMsg) -> None:
        kind = fwd.WhichOneof("type")
        if kind == "ref_hash":  # a message the tab already has: replay it from the cache
            cached = self.cache.get(fwd.ref_hash)
            if cached is None:
                self.errors.append(f"the server referred to a message this tab never had ({fwd.ref_hash})")
                return
            fwd, kind = cached, cached.WhichOneof("type")
        elif fwd.metadata.cacheable and fwd.hash:
            self.cache[fwd.hash] = fwd
        if kind == "new_session":
            if self._current is not None:  # the previous run never said it finished: its end was lost on the way
                self.unfinished_runs += 1
                self._note(f"run without script_finished: {' | '.join(t[:70] for t in self._current.texts[-2:])}")
            self._current = Page(fragment_ids=tuple(fwd.metadata.run.fragment_ids))
            run = fwd.metadata.run
            self._note(f"new_session {run.script_run_id[-6:]} fragments {[f[-6:] for f in run.fragment_ids]}")
            if not self._current.fragment_ids:  # a full run: it says again which fragments poll, and how often
                self._stop_timers(why="full run")
        elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            if self._current is None:
                self._current = Page()
            self._current.add(fwd.delta.new_element)
        elif kind == "navigation":
            self.pages_by_path = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
            self.page_hash = fwd.navigation.page_script_hash or self.page_hash  # the page st.navigation ran
        elif kind == "auto_rerun":
            fid, interval = fwd.auto_rerun.fragment_id, fwd.auto_rerun.interval
            self._note(f"auto_rerun {fid[-6:]} every {interval:g} s")
            if fid and self.timers.get(fid, (None,))[0] != interval:
                self._stop_timers([fid], why="new interval")
                self.timers[fid] = (interval, asyncio.create_task(self._poll(fid, interval)))
        elif kind == "stop_auto_rerun":
            self._stop_timers(list(fwd.stop_auto_rerun.fragment_ids), why="stop_auto_rerun")
        elif kind == "page_not_found":
            self.errors.append(f"page not found: {fwd.page_not_found.page_name}")
        elif kind == "session_event" and fwd.session_event.WhichOneof("type") == "script_compilation_exception":
            self.errors.append(f"script error: {fwd.session_event.script_compilation_exception.message}")
        elif kind == "script_finished":
            self._note(f"script_finished {fwd.metadata.run.script_run_id[-6:]} status {fwd.script_finished}")
            page, self._current = self._current or Page(), None
            if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return  # cut short by the next run (a click, or a fragment's st.rerun): that one counts
            page.finished_at = time.monotonic()
            self._note(f"shown: {' | '.join(t[:70] for t in page.texts[-2:])}")
            where = f"{self.page_name or 'home'}{' (fragment)' if page.fragment_ids else ''}"
            self.errors.extend(f"on {where}: {e}" for e in page.errors)
            new = [u for u in page.images.values() if "/media/" in u and u not in self.fetched]
            self.fetched.update(new)
            page.loading = asyncio.create_task(self._load(new)) if new else None
            if not page.fragment_ids:
                self.last = page
                # The frontend forgets the state of widgets a run no longer draws (a remounted canvas).
                shown = set(page.components.values()) | {wid for wid, _ in page.buttons.values()}
                self.widgets = {wid: w for wid, w in self.widgets.items() if wid in shown}
            async with self._changed:
                self.runs.append(page)
                self._changed.notify_all()
