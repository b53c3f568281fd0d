# -*- coding: utf-8 -*-
# Copyright: cloud1.iaas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console: the seed's master UI and client UI as one web application (Starlette; Jinja2 templates; a
little plain JavaScript; Server-Sent Events for live job output and proposals).

Every request is checked on the server: a page needs a live session (else back to login), what an account
sees is what core.accounts lets it see (another tenant's VM answers 404, as if it did not exist), and every
change is a POST carrying the session's CSRF token (missing or wrong: 403, nothing changed). Every operation
is a job: core.jobs turns the form into one of the collection's playbooks with its extra variables (a
tenant's always carry owner=<tenant>), and runner.py runs it through ansible-runner. Nothing here changes a
VM by itself."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import json
import os
import re
import time

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ansible_collections.cloud1.iaas.plugins.module_utils.core import accounts as account_rules
from ansible_collections.cloud1.iaas.plugins.module_utils.core import jobs as job_rules
from ansible_collections.cloud1.iaas.plugins.module_utils.core import sessions as session_rules
from ansible_collections.cloud1.iaas.plugins.module_utils.errors import Cloud1Error, InvalidInput, NotFound
from ansible_collections.cloud1.iaas.plugins.module_utils.ops.vm_job_info import job_info
from ansible_collections.cloud1.iaas.plugins.module_utils.state.accounts import Accounts, LoginRefused
from ansible_collections.cloud1.iaas.plugins.module_utils.state.jobs import Jobs

from cloud1_console import runner
from cloud1_console.cluster import ClusterView

HERE = os.path.dirname(os.path.abspath(__file__))
GRAPH_METRIC = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
GRAPH_PERIODS = ("3600", "86400", "604800")
VM_ACTIONS = ("start", "shutdown", "reboot", "pause", "resume", "delete")
SSE_POLL = 0.5
PROPOSALS_POLL = 1.0


class Console:
    """The application's state: settings, the stores, the cluster reader and the job workers."""

    def __init__(self, settings, clock=time.time):
        self.settings = settings
        self.clock = clock
        self.accounts = Accounts(settings["db"])
        self.jobs = Jobs(settings["db"])
        self.cluster = ClusterView(settings["nodes"], settings.get("gmetad"), settings.get("cluster"),
                                   ttl=settings.get("view_ttl", 5))
        self.proposals = None
        if settings.get("proposals_db"):
            from ansible_collections.cloud1.iaas.plugins.module_utils.state.proposals import Store
            self.proposals = Store(settings["proposals_db"])
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=int(settings.get("workers") or 2),
                                                          thread_name_prefix="cloud1-job")

    # -- sessions ---------------------------------------------------------------------------------

    def account_of(self, request):
        token = request.cookies.get(session_rules.COOKIE)
        account, _why = self.accounts.session(token, self.clock()) if token else (None, "no session")
        return account, token

    def check_csrf(self, token, form_or_header):
        if not session_rules.csrf_ok(token, form_or_header):
            raise HTTPException(403, "missing or wrong CSRF token: nothing was changed")

    # -- proposals --------------------------------------------------------------------------------

    def proposals_for(self, account, status=None, limit=50):
        """The balancer's proposals ``account`` may answer or see: an admin's all, a tenant's its own."""
        if self.proposals is None or not os.path.exists(self.proposals.db_path):
            return []
        return self.proposals.list(owner=account_rules.owner_filter(account), status=status, limit=limit)

    def proposal_visible(self, account, proposal_id):
        try:
            owner = account_rules.owner_filter(account)
            if self.proposals is None or not os.path.exists(self.proposals.db_path):
                return False
            self.proposals.get(int(proposal_id), owner=owner)
            return True
        except (NotFound, ValueError, TypeError):
            return False

    # -- jobs -------------------------------------------------------------------------------------

    def submit(self, account, operation, fields):
        """A job for ``account``: refused (InvalidInput/NotFound) before it exists when the request breaks a rule."""
        playbook, extravars = job_rules.job_request(account, operation, fields)
        job = self.jobs.create(account["name"], operation, playbook, extravars, self.clock())
        self.pool.submit(self._run, job["id"])
        return job

    def _run(self, job_id):
        env = dict(os.environ)
        env.update(self.settings.get("job_env") or {})
        try:
            runner.run(self.jobs, job_id, self.settings["playbook_dir"], self.settings["inventory"],
                       os.path.join(self.settings["jobs_dir"], str(job_id)), env=env, clock=self.clock)
        except Exception as exc:   # noqa: BLE001 - a job that could not run is recorded as failed, never lost
            self.jobs.finish(job_id, False, -1, {"status": "error", "failed": "the job could not run: %s" % exc},
                             self.clock())


def _console(request):
    return request.app.state.console


def _page(request, template, account, token, status_code=200, **context):
    context.update(account=account, csrf=session_rules.csrf_token(token) if token else "",
                   is_admin=bool(account) and account["role"] == account_rules.ADMIN)
    context.setdefault("values", {})
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)


def _login_needed(request):
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "log in first"}, status_code=401)
    return RedirectResponse("/login", status_code=303)


def _session(request):
    account, token = _console(request).account_of(request)
    return account, token


def logged_in(handler=None, admin=False):
    """The handler gets (request, account, token) for a live session; without one, the login (or 401 for the
    API). ``admin``: a tenant gets 404, as for anything it may not see."""
    def wrap(fn):
        @functools.wraps(fn)
        async def wrapped(request):
            account, token = _session(request)
            if account is None:
                return _login_needed(request)
            if admin and account["role"] != account_rules.ADMIN:
                raise HTTPException(404, "not found")
            return await fn(request, account, token)
        return wrapped
    return wrap(handler) if handler is not None else wrap


async def _visible_vm(request, account, fresh=False):
    """The VM of the path if the account may see it; else 404, the same as for a VM that does not exist."""
    vm = await asyncio.to_thread(_console(request).cluster.vm, account, request.path_params["name"], fresh)
    if vm is None:
        raise HTTPException(404, "not found")
    return vm


async def _form(request):
    form = await request.form()
    return dict(form.items())


# -- pages --------------------------------------------------------------------------------------------

async def login_page(request):
    return _page(request, "login.html", None, None, error=None)


async def login(request):
    form = await _form(request)
    console = _console(request)
    try:
        account = await asyncio.to_thread(console.accounts.login, form.get("name", ""), form.get("password", ""),
                                          console.clock())
    except (LoginRefused, InvalidInput) as exc:
        return _page(request, "login.html", None, None, status_code=401, error=exc.message)
    token = session_rules.new_token(os.urandom(session_rules.TOKEN_BYTES))
    console.accounts.start_session(account["name"], token, console.clock())
    response = RedirectResponse("/", status_code=303)
    response.headers.append("Set-Cookie", session_rules.cookie(token))
    return response


@logged_in
async def logout(request, account, token):
    _console(request).check_csrf(token, (await _form(request)).get("csrf"))
    _console(request).accounts.end_session(token)
    response = RedirectResponse("/login", status_code=303)
    response.headers.append("Set-Cookie", session_rules.cookie("", max_age=0))
    return response


@logged_in
async def home(request, account, token):
    console = _console(request)
    view = await asyncio.to_thread(console.cluster.for_account, account)
    jobs = console.jobs.list(account=account_rules.owner_filter(account) and account["name"], limit=10)
    proposals = [_proposal_view(p) for p in console.proposals_for(account, status="pending")]
    history = [_proposal_view(p) for p in console.proposals_for(account, limit=20) if p["status"] != "pending"]
    return _page(request, "home.html", account, token, view=view, jobs=jobs, periods=GRAPH_PERIODS,
                 proposals=proposals, history=history[:10])


@logged_in
async def vm_page(request, account, token):
    vm = await _visible_vm(request, account)
    nodes = [n["name"] for n in _console(request).cluster.view()["nodes"] if n["name"] != vm["node"]]
    return _page(request, "vm.html", account, token, vm=vm, actions=VM_ACTIONS, nodes=nodes)


@logged_in
async def new_vm_page(request, account, token):
    return _page(request, "new_vm.html", account, token, error=None, values={})


@logged_in
async def submit(request, account, token):
    """POST /jobs: operation + its fields (the form's, or JSON for the API) -> a job, or the rule's message."""
    console = _console(request)
    is_json = request.headers.get("content-type", "").startswith("application/json")
    data = await request.json() if is_json else await _form(request)
    if not isinstance(data, dict):
        raise HTTPException(400, "a JSON object is expected")
    console.check_csrf(token, request.headers.get("x-csrf-token") if is_json else data.get("csrf"))
    fields = {k: v for k, v in data.items() if k not in ("csrf", "operation")}
    operation = str(data.get("operation") or "")
    vm_name = fields.get("vm")
    try:
        if vm_name and operation not in ("create", "create_existing"):
            # acting on a VM: it must be one this account sees (the playbook checks the owner again)
            if await asyncio.to_thread(console.cluster.vm, account, str(vm_name), True) is None:
                raise NotFound("not found")
        if operation.startswith("proposal_") and not console.proposal_visible(account, fields.get("id")):
            raise NotFound("not found")   # another tenant's proposal (proposals.yml checks the owner again)
        job = console.submit(account, operation, fields)
    except NotFound:
        if is_json:
            return JSONResponse({"error": "not found"}, status_code=404)
        raise HTTPException(404, "not found") from None
    except InvalidInput as exc:
        if is_json:
            return JSONResponse({"error": exc.message}, status_code=400)
        template = "new_vm.html" if operation in ("create", "create_existing") else "error.html"
        return _page(request, template, account, token, status_code=400, error=exc.message, values=fields)
    if is_json:
        return JSONResponse({"job": job["id"], "status": job["status"]}, status_code=202)
    return RedirectResponse("/jobs/%d" % job["id"], status_code=303)


def _job_for(request, account):
    owner = account_rules.owner_filter(account)
    try:
        job_id = int(request.path_params["job"])
        return _console(request).jobs.get(job_id, account=account["name"] if owner else None)
    except (ValueError, NotFound):
        raise HTTPException(404, "not found") from None


@logged_in
async def jobs_page(request, account, token):
    owner = account_rules.owner_filter(account)
    jobs = _console(request).jobs.list(account=account["name"] if owner else None, limit=100)
    return _page(request, "jobs.html", account, token, jobs=jobs)


@logged_in
async def job_page(request, account, token):
    job = _job_for(request, account)
    owner = account_rules.owner_filter(account)
    events = _console(request).jobs.events(job["id"], account=account["name"] if owner else None)
    return _page(request, "job.html", account, token, job=job, events=events)


@logged_in
async def job_events(request, account, _token):
    """Server-Sent Events: the job's lines as they come, then its end."""
    job = _job_for(request, account)
    console = _console(request)
    who = account["name"] if account_rules.owner_filter(account) else None
    after = int(request.query_params.get("after") or 0)

    async def stream():
        seen = after
        while True:
            for event in console.jobs.events(job["id"], account=who, after=seen):
                seen = max(seen, event["seq"])
                yield "id: %d\nevent: line\ndata: %s\n\n" % (event["seq"], json.dumps(event))
            current = console.jobs.get(job["id"], account=who)
            if current["status"] not in ("queued", "running"):
                yield "event: end\ndata: %s\n\n" % json.dumps({"status": current["status"], "rc": current["rc"],
                                                               "result": current["result"]})
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(SSE_POLL)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@logged_in
async def api_vms(request, account, _token):
    view = await asyncio.to_thread(_console(request).cluster.for_account, account)
    return JSONResponse({"vms": view["vms"], "nodes": view["nodes"], "read_at": view["read_at"]})


@logged_in
async def api_vm(request, account, _token):
    return JSONResponse(await _visible_vm(request, account))


@logged_in
async def api_vm_progress(request, account, _token):
    """The VM's running job (a migration) as a person follows it: active, per cent sent, seconds so far. Read
    on the VM's node (vm_job_info's reading); the same 404 as every other read for a VM the account cannot see."""
    console = _console(request)
    found = await asyncio.to_thread(console.cluster.vm_everywhere, account, request.path_params["name"], True)
    if not found:
        raise HTTPException(404, "not found")
    vm, info = found[0], {}
    for candidate in found:   # during a move the source runs the job; the destination holds a paused copy
        try:
            read = await asyncio.to_thread(job_info, console.settings["nodes"].get(candidate["node"]), candidate["name"])
        except Cloud1Error as exc:
            read = {"active": False, "error": exc.message}
        if read.get("active") or not info:
            vm, info = candidate, read
        if read.get("active"):
            break
    if info.get("error"):
        return JSONResponse({"node": vm["node"], "active": False, "error": info["error"]})
    remaining = info.get("percent_remaining")
    return JSONResponse({"node": vm["node"], "active": bool(info.get("active")),
                         "supported": info.get("supported", True),
                         "percent": None if remaining is None else round(100.0 - remaining, 1),
                         "elapsed_s": None if info.get("elapsed_ms") is None else info["elapsed_ms"] / 1000.0})


@logged_in
async def api_job(request, account, _token):
    job = _job_for(request, account)
    return JSONResponse({k: job[k] for k in ("id", "operation", "status", "rc", "result", "created", "started",
                                             "ended")})


def _accounts(request, account, token, error=None, status_code=200):
    """Admins manage the accounts (the same store and rules as users.yml and the console_user module)."""
    return _page(request, "accounts.html", account, token, status_code=status_code, error=error,
                 accounts=_console(request).accounts.list())


@logged_in(admin=True)
async def accounts_page(request, account, token):
    return _accounts(request, account, token)


@logged_in(admin=True)
async def accounts_change(request, account, token):
    console = _console(request)
    form = await _form(request)
    console.check_csrf(token, form.get("csrf"))
    name, action = form.get("name", ""), form.get("action", "")
    try:
        if action == "add":
            if console.accounts.get(name) is not None:
                raise InvalidInput("account %s exists already: nothing was changed" % name)
            await asyncio.to_thread(console.accounts.ensure, name, console.clock(), role=form.get("role") or None,
                                    password=form.get("password") or None)
        elif action in ("disable", "enable"):
            if console.accounts.get(name) is None:
                raise InvalidInput("there is no account %s" % name)
            if name == account["name"]:
                raise InvalidInput("an admin does not disable its own account here: nothing was changed")
            console.accounts.ensure(name, console.clock(), disabled=(action == "disable"))
        elif action == "remove":
            if name == account["name"]:
                raise InvalidInput("an admin does not remove its own account here: nothing was changed")
            if console.accounts.remove(name) is None:
                raise InvalidInput("there is no account %s" % name)
        else:
            raise InvalidInput("unknown action %r: add, disable, enable or remove" % action)
    except InvalidInput as exc:
        return _accounts(request, account, token, error=exc.message, status_code=400)
    return RedirectResponse("/accounts", status_code=303)


def _proposal_view(p):
    return {k: p[k] for k in ("id", "kind", "subject", "node", "dimension", "owner", "forced", "action", "reason",
                              "status", "created", "outcome")}


@logged_in
async def api_proposals(request, account, _token):
    console = _console(request)
    return JSONResponse({"pending": [_proposal_view(p) for p in console.proposals_for(account, status="pending")],
                         "recent": [_proposal_view(p) for p in console.proposals_for(account, limit=20)]})


@logged_in
async def live_events(request, account, _token):
    """Server-Sent Events for an open page: the account's pending proposals whenever they change (the seed's
    pop-ups), without a reload."""
    console = _console(request)

    async def stream():
        last, quiet = None, 0.0
        while not await request.is_disconnected():
            pending = [_proposal_view(p) for p in await asyncio.to_thread(console.proposals_for, account, "pending")]
            if pending != last:
                last = pending
                yield "event: proposals\ndata: %s\n\n" % json.dumps(pending)
                quiet = 0.0
            elif quiet >= 15:
                yield ": still here\n\n"
                quiet = 0.0
            await asyncio.sleep(PROPOSALS_POLL)
            quiet += PROPOSALS_POLL

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@logged_in
async def graph(request, account, _token):
    """A graph PNG drawn by the master's graphs timer: a node's for an admin, a VM's for whoever sees the VM."""
    console = _console(request)
    host, metric = request.path_params["host"], request.path_params["metric"]
    period = request.query_params.get("period", GRAPH_PERIODS[0])
    if not GRAPH_METRIC.match(metric) or period not in GRAPH_PERIODS or not console.settings.get("graphs_dir"):
        raise HTTPException(404, "not found")
    view = await asyncio.to_thread(console.cluster.for_account, account)
    allowed = {vm["name"] for vm in view["vms"]} | {n["name"] for n in view["nodes"]}
    if host not in allowed:
        raise HTTPException(404, "not found")
    path = os.path.join(console.settings["graphs_dir"], "%s-%s-%s.png" % (host, metric, period))
    if not os.path.isfile(path):
        raise HTTPException(404, "no graph of %s %s yet (the graphs timer draws them)" % (host, metric))
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-store"})


async def http_error(request, exc):
    account, token = _session(request)
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "error")
    if request.url.path.startswith("/api/") or request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse({"error": detail}, status_code=status)
    return _page(request, "error.html", account, token, status_code=status, error=detail)


def create_app(settings, clock=time.time):
    console = Console(settings, clock=clock)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        console.jobs.lose_running(console.clock())   # a job cut off by a restart is lost, never left "running"
        yield
        console.pool.shutdown(wait=False, cancel_futures=True)

    routes = [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
        Route("/vms/new", new_vm_page),
        Route("/vms/{name}", vm_page),
        Route("/jobs", jobs_page, methods=["GET"]),
        Route("/jobs", submit, methods=["POST"]),
        Route("/jobs/{job}", job_page),
        Route("/jobs/{job}/events", job_events),
        Route("/api/vms", api_vms),
        Route("/api/vms/{name}", api_vm),
        Route("/api/vms/{name}/progress", api_vm_progress),
        Route("/api/jobs", submit, methods=["POST"]),
        Route("/api/jobs/{job}", api_job),
        Route("/api/proposals", api_proposals),
        Route("/accounts", accounts_page, methods=["GET"]),
        Route("/accounts", accounts_change, methods=["POST"]),
        Route("/events", live_events),
        Route("/graphs/{host}/{metric}.png", graph),
        Mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.state.console = console
    app.state.templates = Jinja2Templates(directory=os.path.join(HERE, "templates"))
    # the static files' version in their URLs: a browser never keeps an older console.js after an upgrade
    app.state.templates.env.globals["static_v"] = _static_version()
    return app


def _static_version():
    digest = hashlib.sha256()
    static = os.path.join(HERE, "static")
    for name in sorted(os.listdir(static)):
        with open(os.path.join(static, name), "rb") as handle:
            digest.update(name.encode() + b"\0" + handle.read())
    return digest.hexdigest()[:12]
