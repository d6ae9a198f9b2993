#!/usr/bin/env python3
"""
An agent written only against the seed's wire protocol, with the Python standard library alone:
no SDK, no Flask. It shows that any language can serve the orchestrator.

    python3 examples/plain_agent.py --name plain-agent-1 --port 8002 --orchestrator http://127.0.0.1:8080

Options may also come from AGENT_NAME, AGENT_TYPE, AGENT_PORT, ORCHESTRATOR_URL, AGENT_CAPABILITIES and
WORK_DELAY_MS. --port 0 picks a free port. Once registered it prints "READY <agent_id> <port>".

It serves POST /task (200 completed, 500 when the handler raises, 400 for an unknown task type or a bad
body) and GET /health, exactly as the seed's TaskHandler; registers with POST /agents/register; heartbeats
with POST /agents/{id}/heartbeat, registering again on 404 (forgotten) or 401/403 (token no longer
accepted), with its token so it may replace its own live registration; and unregisters on SIGINT / SIGTERM. It does
not check the optional webhook-signature header: the seed protocol has none.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional

logger = logging.getLogger("plain_agent")

MAX_BODY_BYTES = 10 * 1024 * 1024


class TaskHandler:
    """The seed's TaskHandler on http.server: register_task decorator, /task and /health."""

    def __init__(self, port: int = 8001, host: str = "127.0.0.1"):
        self.task_handlers: Dict[str, Callable[[str, Dict[str, Any]], Any]] = {}
        self.in_flight = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._request_handler())
        self.server.daemon_threads = True
        self.host, self.port = self.server.server_address[0], self.server.server_address[1]
        self._thread: Optional[threading.Thread] = None

    def register_task(self, task_type: str):
        def decorator(func):
            self.task_handlers[task_type] = func
            logger.info("Registered handler for task type: %s", task_type)
            return func
        return decorator

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        logger.info("Task handler listening on %s:%s", self.host, self.port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def run_task(self, data: Any):
        """Returns (http_status, TaskResponse) for one parsed POST /task body."""
        start_time = time.time()
        if not isinstance(data, dict):
            return 400, {"status": "failed", "error": "task body must be a JSON object"}
        task_id = data.get("task_id")
        task_type = data.get("task_type")
        parameters = data.get("parameters") or {}
        logger.info("Received task: %s (type: %s)", task_id, task_type)
        if not task_id or not task_type:
            return 400, {"task_id": task_id, "status": "failed", "error": "Missing task_id or task_type"}
        handler = self.task_handlers.get(task_type)
        if handler is None:
            return 400, {"task_id": task_id, "status": "failed",
                         "error": f"No handler registered for task type: {task_type}"}
        with self._lock:
            self.in_flight += 1
        try:
            result = handler(task_id, parameters)
            execution_time = int((time.time() - start_time) * 1000)
            logger.info("Task completed: %s (%sms)", task_id, execution_time)
            return 200, {"task_id": task_id, "status": "completed", "result": result,
                         "error": None, "execution_time_ms": execution_time}
        except Exception as e:  # the seed answers any handler failure with 500
            logger.error("Task execution failed: %s - %s", task_id, e, exc_info=True)
            execution_time = int((time.time() - start_time) * 1000)
            return 500, {"task_id": task_id, "status": "failed", "error": str(e),
                         "execution_time_ms": execution_time}
        finally:
            with self._lock:
                self.in_flight -= 1

    def _request_handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, body: Dict[str, Any]) -> None:
                payload = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                if self.path.split("?")[0] == "/health":
                    self._send(200, {"status": "healthy", "registered_tasks": list(outer.task_handlers.keys())})
                else:
                    self._send(404, {"error": f"no route GET {self.path}", "code": "not_found"})

            def do_POST(self):
                if self.path.split("?")[0] != "/task":
                    self._send(404, {"error": f"no route POST {self.path}", "code": "not_found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self.close_connection = True
                    self._send(413, {"status": "failed", "error": f"task body is larger than {MAX_BODY_BYTES} bytes"})
                    return
                try:
                    data = json.loads(self.rfile.read(length) or b"null")
                except ValueError as e:
                    self._send(400, {"status": "failed", "error": f"task body is not valid JSON ({e})"})
                    return
                status, body = outer.run_task(data)
                self._send(status, body)

            def log_message(self, format, *args):
                logger.debug("%s - %s", self.address_string(), format % args)

        return Handler


class Registration:
    """Registers with the orchestrator and heartbeats, registering again when it has forgotten the agent."""

    def __init__(self, orchestrator_url: str, request: Dict[str, Any], in_flight: Callable[[], int],
                 api_token: Optional[str] = None, fleet_token: Optional[str] = None):
        self.base = orchestrator_url.rstrip("/")
        self.api_token = api_token
        self.fleet_token = fleet_token
        # The agent's own credential, from registration: sent on heartbeat and unregister.
        self.agent_token: Optional[str] = None
        self.request = request
        self.in_flight = in_flight
        self.agent_id: Optional[str] = None
        self.interval = 30.0
        self.stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_token:
            headers["Authorization"] = "Bearer " + self.api_token
        if path == "/agents/register" and self.fleet_token:
            headers["X-Fleet-Token"] = self.fleet_token
        # Also on registering again: a live registration is replaced only by the agent holding its token.
        if self.agent_token:
            headers["X-Agent-Token"] = self.agent_token
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                text = res.read().decode("utf-8")
                return res.status, (json.loads(text) if text else {})
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, {"error": text}

    def register(self, retry_until: float) -> bool:
        delay = 0.5
        while not self.stopping.is_set():
            try:
                status, body = self._call("POST", "/agents/register", self.request)
                if status in (200, 201):
                    self.agent_id = body["id"]
                    self.agent_token = body.get("agent_token")
                    self.interval = float(body.get("heartbeat_interval_seconds") or 30)
                    logger.info("Registered as %s (heartbeat every %ss)", self.agent_id, self.interval)
                    return True
                if 400 <= status < 500:
                    logger.error("Registration refused (HTTP %s): %s", status, body.get("error"))
                    return False
                logger.warning("Registration answered HTTP %s; retrying", status)
            except (urllib.error.URLError, OSError) as e:
                logger.warning("Orchestrator not reachable (%s); retrying", e)
            if time.time() + delay > retry_until:
                return False
            self.stopping.wait(delay)
            delay = min(delay * 2, 10)
        return False

    def start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._heartbeat_loop, daemon=True)
        self._thread.start()

    def _heartbeat_loop(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                status, body = self._call("POST", f"/agents/{self.agent_id}/heartbeat", {"in_flight": self.in_flight()})
                if status in (401, 403, 404):
                    logger.warning("Orchestrator %s agent %s (HTTP %s); registering again",
                                   "forgot" if status == 404 else "no longer accepts the token of", self.agent_id, status)
                    self.register(retry_until=time.time() + self.interval)
                elif status != 200:
                    logger.warning("Heartbeat answered HTTP %s: %s", status, body.get("error"))
                else:
                    self.interval = float(body.get("heartbeat_interval_seconds") or self.interval)
            except (urllib.error.URLError, OSError) as e:
                logger.warning("Heartbeat failed: %s", e)

    def unregister(self) -> None:
        self.stopping.set()
        if self.agent_id is None:
            return
        try:
            status, _ = self._call("DELETE", f"/agents/{self.agent_id}")
            logger.info("Unregistered (HTTP %s)", status)
        except (urllib.error.URLError, OSError) as e:
            logger.warning("Could not unregister: %s", e)


def build_handler(port: int, delay_seconds: float) -> TaskHandler:
    handler = TaskHandler(port=port, host="127.0.0.1")

    @handler.register_task("analyze_cost")
    def analyze_cost(task_id: str, parameters: Dict[str, Any]) -> Dict[str, Any]:
        time.sleep(delay_seconds)
        return {
            "account_id": parameters.get("account_id", "default"),
            "period": parameters.get("period", "last_7_days"),
            "total_spend": 12500.50,
            "potential_savings": 3200.75,
            "recommendations": [
                {"type": "spot_migration", "savings": 2000},
                {"type": "right_sizing", "savings": 1200.75},
            ],
        }

    @handler.register_task("echo")
    def echo(task_id: str, parameters: Dict[str, Any]) -> Dict[str, Any]:
        if parameters.get("fail"):
            raise RuntimeError(str(parameters.get("fail")))
        return {"task_id": task_id, "echo": parameters}

    return handler


def parse_args(argv: List[str]) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(description="A plain Python agent for the OptiInfra orchestrator (seed protocol).")
    parser.add_argument("--name", default=env.get("AGENT_NAME", "plain-agent-1"))
    parser.add_argument("--type", default=env.get("AGENT_TYPE", "plain"))
    parser.add_argument("--port", type=int, default=int(env.get("AGENT_PORT", "8002")))
    parser.add_argument("--orchestrator", default=env.get("ORCHESTRATOR_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--api-token", default=env.get("API_TOKEN"),
                        help="bearer token for an orchestrator started with API_TOKENS")
    parser.add_argument("--fleet-token", default=env.get("FLEET_TOKEN"),
                        help="registration token for an orchestrator started with FLEET_TOKENS")
    parser.add_argument("--capabilities", default=env.get("AGENT_CAPABILITIES"),
                        help="comma-separated task types to offer (default: every task type this agent handles)")
    parser.add_argument("--log-format", choices=["text", "json"], default=(env.get("LOG_FORMAT") or "text").lower(),
                        help="text (the local runtime's line format) or json (one JSON object per line)")
    parser.add_argument("--delay-ms", type=int, default=int(env.get("WORK_DELAY_MS", "200")),
                        help="simulated work for analyze_cost")
    parser.add_argument("--register-timeout", type=float, default=float(env.get("REGISTER_TIMEOUT_SECONDS", "60")),
                        help="give up when the orchestrator cannot be reached for this many seconds")
    return parser.parse_args(argv)


class LineFormatter(logging.Formatter):
    """The local runtime's line format: time of day, who speaks (the agent's name), a level for a
    warning or an error, the message; or, for --log-format json, one JSON object per line with the
    runtime's fields (time in UTC, level, source, event, message)."""

    def __init__(self, source: str, json_lines: bool) -> None:
        super().__init__()
        self.source = source
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        level = "error" if record.levelno >= logging.ERROR else "warn" if record.levelno >= logging.WARNING \
            else "debug" if record.levelno < logging.INFO else "info"
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        if self.json_lines:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + ".%03dZ" % int(record.msecs)
            return json.dumps({"time": stamp, "level": level, "source": self.source, "event": "log", "message": message})
        parts = [time.strftime("%H:%M:%S", time.localtime(record.created)) + ".%03d" % int(record.msecs),
                 self.source.ljust(12)]
        if level in ("warn", "error"):
            parts.append(level.upper())
        parts.append(message)
        return "  ".join(parts)


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    output = logging.StreamHandler(sys.stderr)
    output.setFormatter(LineFormatter(args.name, args.log_format == "json"))
    logging.basicConfig(level=logging.INFO, handlers=[output])
    handler = build_handler(args.port, args.delay_ms / 1000.0)
    capabilities = [c.strip() for c in args.capabilities.split(",") if c.strip()] if args.capabilities \
        else list(handler.task_handlers.keys())
    handler.start()

    registration = Registration(args.orchestrator, {
        "name": args.name,
        "type": args.type,
        "host": "127.0.0.1",
        "port": handler.port,
        "capabilities": capabilities,
        "version": "1.0.0",
        "metadata": {"language": "python", "sdk": "none"},
    }, lambda: handler.in_flight, args.api_token, args.fleet_token)

    stopped = threading.Event()

    def on_signal(signum, _frame):
        logger.info("Received %s: stopping", signal.Signals(signum).name)
        stopped.set()
        registration.stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    if not registration.register(retry_until=time.time() + args.register_timeout):
        handler.stop()
        return 0 if stopped.is_set() else 1
    registration.start_heartbeat()
    print(f"READY {registration.agent_id} {handler.port}", flush=True)

    while not stopped.wait(0.5):
        pass
    registration.unregister()
    handler.stop()
    logger.info("Stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
