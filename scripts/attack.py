#!/usr/bin/env python3
"""The attacker's replay of issue 12 ("Security and robustness") against live `xalorra serve` processes.

    python3 scripts/attack.py BINARY WORKDIR      (scripts/attack.sh runs it and cleans up after it)

Every attack prints one line, `REFUSED   <item> <what>: <evidence>` when the specific safe outcome was observed, else
`VULNERABLE <item> <what>: <evidence>`; then `attacks: N passed, M failed`; exit status 1 when any is VULNERABLE.
The servers run on loopback in temporary homes under WORKDIR, with rate limits on and a known SECRET_KEY (so tokens
can be forged), and every process started is listed in WORKDIR/pids for the wrapper's cleanup. Client addresses:
each anonymous identity that must not share a rate-limit budget uses its own source address in 127.0.0.0/8.
Python 3 standard library only.
"""

import base64
import hashlib
import hmac
import http.client
import itertools
import json
import os
import random
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time

BIN = os.path.abspath(sys.argv[1])
WORK = os.path.abspath(sys.argv[2])
SECRET = "attack-secret-attack-secret-attack-secret-42"
ENV_BASE = {
    "SECRET_KEY": SECRET,
    "XALORRA_BCRYPT_COST": "10",
    "NO_COLOR": "1",
}
PASSWORD = "correct-horse-battery"
CONTROL_BYTES = [b"\x1b", b"\x07", b"\r", b"\x00", b"\x08", b"\xc2\x9b"]

passed = 0
failed = 0
_print_lock = threading.Lock()


def report(item, what, ok, evidence):
    """One line per attack; REFUSED only when the safe outcome was observed."""
    global passed, failed
    with _print_lock:
        if ok:
            passed += 1
        else:
            failed += 1
        label = "REFUSED   " if ok else "VULNERABLE"
        print(f"{label} {item} {what}: {evidence}", flush=True)


# ---------------------------------------------------------------------------------------------------------------------
# Identities: forged tokens, fresh source addresses, unique names

_names = itertools.count(1)
_addresses = itertools.count(1)


def unique(prefix):
    return f"{prefix}{next(_names)}"


def fresh_ip():
    """A source address no earlier request used, so its anonymous rate-limit budget is untouched."""
    n = next(_addresses)
    return f"127.{10 + n // 65025}.{(n // 255) % 255}.{n % 255 + 1}"


def strict_json(data):
    """Whether `data` is JSON without the NaN/Infinity extensions Python would accept."""
    def refuse(constant):
        raise ValueError(constant)
    try:
        json.loads(data, parse_constant=refuse)
        return True
    except (ValueError, UnicodeDecodeError):
        return False


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge(payload=None, header=None, raw_payload=None, raw_header=None, secret=SECRET, digest=hashlib.sha256):
    """A token signed with the deployment's secret, whatever its claims say."""
    if raw_header is None:
        raw_header = json.dumps(header or {"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode()
    if raw_payload is None:
        raw_payload = json.dumps(payload, separators=(",", ":")).encode()
    signing = f"{b64u(raw_header)}.{b64u(raw_payload)}"
    signature = hmac.new(secret.encode(), signing.encode(), digest).digest()
    return f"{signing}.{b64u(signature)}"


def claims(user, role="user", tenant="default", ttl=3600, **override):
    now = int(time.time())
    values = {"sub": user, "user_id": user, "role": role, "tenant": tenant, "typ": "access", "iat": now,
              "exp": now + ttl, "jti": os.urandom(16).hex()}
    values.update(override)
    return values


def token(user=None, role="user", tenant="default", **override):
    """A valid access token for a name that has no account (what `xalorra token` mints)."""
    return forge(claims(user or unique("tok-"), role=role, tenant=tenant, **override))


def admin():
    """A fresh admin principal of the operator's tenant (its own per-user rate-limit budget)."""
    return token(unique("ops-admin-"), role="admin", tenant="default")


# ---------------------------------------------------------------------------------------------------------------------
# Processes

def record_pid(pid):
    with open(os.path.join(WORK, "pids"), "a") as pids:
        pids.write(f"{pid}\n")


def cli(args, home, timeout=60, stdin=None, env=None):
    """Runs the binary offline on `home`; (exit status, stdout bytes, stderr bytes)."""
    environment = dict(os.environ, **ENV_BASE, XALORRA_HOME=home, XALORRA_USER="operator")
    environment.pop("XALORRA_URL", None)
    environment.update(env or {})
    process = subprocess.Popen([BIN] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=environment)
    record_pid(process.pid)
    try:
        out, err = process.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        return None, out, err
    return process.returncode, out, err


class Server:
    """A `xalorra serve --port 0` on its own home; restarted on the same home after a crash."""

    def __init__(self, name, env=None, args=None):
        self.name = name
        self.home = os.path.join(WORK, name)
        os.makedirs(self.home, mode=0o700, exist_ok=True)
        self.env = dict(os.environ, **ENV_BASE, XALORRA_HOME=self.home, **(env or {}))
        self.env.pop("XALORRA_URL", None)
        self.args = args or []
        self.process = None
        self.port = None
        self.restarts = 0

    def start(self):
        log_path = os.path.join(self.home, f"serve-{self.restarts}.log")
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen([BIN, "serve", "--port", "0"] + self.args, stdout=subprocess.DEVNULL,
                                        stderr=self.log, stdin=subprocess.DEVNULL, env=self.env)
        record_pid(self.process.pid)
        deadline = time.time() + 90
        while time.time() < deadline:
            with open(log_path, "rb") as log:
                head = log.read(4096).decode(errors="replace")
            marker = head.find("serving http://127.0.0.1:")
            if marker >= 0:
                digits = head[marker + len("serving http://127.0.0.1:"):].split()[0]
                self.port = int("".join(c for c in digits if c.isdigit()))
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"attack: the server {self.name} did not start:\n{head}")

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stop(self):
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self):
        self.stop()
        self.restarts += 1
        self.start()

    def rss_mb(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


# ---------------------------------------------------------------------------------------------------------------------
# HTTP

class Resp:
    def __init__(self, status, headers, body, seconds, error=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.seconds = seconds
        self.error = error

    def json(self):
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    @property
    def code(self):
        """The envelope's error code; `OIP` for the inference error form `{"error": "..."}`."""
        body = self.json()
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                return error.get("code")
            if isinstance(error, str):
                return "OIP"
        return None

    def header(self, name):
        return self.headers.get(name.lower())

    def data(self):
        body = self.json()
        return body.get("data") if isinstance(body, dict) else None

    def brief(self):
        if self.status == 0:
            return f"no response ({self.error})"
        return f"{self.status} {self.code or ''}".strip()


def request(server, method, path, body=None, headers=None, tok=None, src=None, timeout=20):
    """One request on a fresh connection; status 0 when the connection failed or closed without an answer."""
    started = time.time()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout,
                                            source_address=(src, 0) if src else None)
    sent = dict(headers or {})
    if tok:
        sent["Authorization"] = f"Bearer {tok}"
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
        sent.setdefault("Content-Type", "application/json")
    try:
        try:
            connection.request(method, path, body=body, headers=sent)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer early and close before the whole body was sent: read its answer
        response = connection.getresponse()
        data = response.read()
        found = {}
        for name, value in response.getheaders():
            found[name.lower()] = f"{found[name.lower()]}, {value}" if name.lower() in found else value
        return Resp(response.status, found, data, time.time() - started)
    except (OSError, http.client.HTTPException) as error:
        return Resp(0, {}, b"", time.time() - started, error=type(error).__name__)
    finally:
        connection.close()


def health(server, timeout=2.0):
    """(answered 200 within 1 s, milliseconds or the failure) from a fresh address."""
    response = request(server, "GET", "/health", src=fresh_ip(), timeout=timeout)
    if response.status != 200:
        return False, response.brief()
    return response.seconds < 1.0, f"{response.seconds * 1000:.0f} ms"


def survives(server):
    """After an attack that could crash the server: (alive and /health fast, evidence). A server that died (a trap
    may take seconds to print its backtrace and exit) or stopped answering is restarted for the next attack."""
    ok, note = health(server) if server.alive() else (False, "")
    if ok:
        return True, f"alive, /health {note}"
    deadline = time.time() + 8
    while server.alive() and time.time() < deadline:
        time.sleep(0.1)
        if not server.alive():
            break
        ok, note = health(server)
        if ok:
            return False, f"alive, but /health was slow or failed first ({note} on retry)"
    code = server.process.poll()
    server.restart()
    if code is None:
        return False, f"server stopped answering /health ({note}), restarted"
    return False, f"server died (exit {code}), restarted"


def expect(item, what, server, response, statuses, codes=None, extra_ok=True, extra=""):
    """The common check: the response is one of `statuses` (and `codes`), and the server survived."""
    alive, note = survives(server)
    ok = response.status in statuses and (codes is None or response.code in codes) and alive and extra_ok
    report(item, what, ok, f"{response.brief()}{'; ' + extra if extra else ''}; {note}")
    return ok


class Raw:
    """A bare TCP connection, for what http.client will not do."""

    def __init__(self, server, src=None, timeout=5.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if src:
            self.sock.bind((src, 0))
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", server.port))
        self.buffer = b""
        self.eof = False

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def fill(self, deadline):
        """Reads what arrives before `deadline`; False on timeout, True on data or EOF (self.eof)."""
        remaining = deadline - time.time()
        if remaining <= 0 or self.eof:
            return self.eof
        ready, _, _ = select.select([self.sock], [], [], remaining)
        if not ready:
            return False
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            self.eof = True
        self.buffer += chunk
        return True

    def head(self, deadline):
        """(status, headers) of the response head, consuming it; (0, {}) if none arrived."""
        while b"\r\n\r\n" not in self.buffer and not self.eof and time.time() < deadline:
            self.fill(deadline)
        if b"\r\n\r\n" not in self.buffer:
            return 0, {}
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode(errors="replace").split("\r\n")
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            return 0, {}
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def read_exact(self, count, deadline):
        while len(self.buffer) < count and not self.eof and time.time() < deadline:
            self.fill(deadline)
        if len(self.buffer) < count:
            return None
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def closed_within(self, seconds):
        """Whether the server closes the connection within `seconds` (discarding what it sends)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.fill(deadline) and self.eof:
                return True
            self.buffer = b""
        return self.eof

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------------------------------
# Documents

def export_doc(features=2, trees=None, **model_override):
    """A valid `xalorra models export` document (a depth-1 tree on feature 0)."""
    model = {"type": "trees", "objective": "regression", "base_margin": 0, "feature_count": features,
             "float32": False,
             "trees": trees if trees is not None else [
                 {"feature": [0, -1, -1], "threshold": [0.5, 0, 0], "left": [1, -1, -1], "right": [2, -1, -1],
                  "default_left": [1, 0, 0], "value": [0, 1, 2]}]}
    model.update(model_override)
    return {"format": "xalorra-model", "format_version": 1, "name": "m", "version": "1", "kind": "gbdt",
            "features": [f"f{i}" for i in range(features)], "metrics": None, "hyperparameters": {},
            "model": model}


def xgb_tree(**override):
    tree = {"tree_param": {"num_nodes": "3", "size_leaf_vector": "1", "num_feature": "2"},
            "id": 0, "left_children": [1, -1, -1], "right_children": [2, -1, -1], "parents": [2147483647, 0, 0],
            "split_indices": [0, 0, 0], "split_conditions": [0.5, 1.0, 2.0], "default_left": [1, 0, 0],
            "split_type": [0, 0, 0], "categories": [], "categories_nodes": [], "categories_segments": [],
            "categories_sizes": [], "base_weights": [0, 0, 0], "loss_changes": [0, 0, 0],
            "sum_hessian": [1, 1, 1]}
    tree.update(override)
    return tree


def xgb_doc(trees=None, num_feature="2", **param_override):
    """A valid XGBoost (save_model JSON) regression model."""
    trees = trees if trees is not None else [xgb_tree()]
    params = {"num_feature": num_feature, "num_class": "0", "base_score": "5E-1", "num_target": "1"}
    params.update(param_override)
    return {"learner": {
        "learner_model_param": params,
        "gradient_booster": {"name": "gbtree", "model": {
            "gbtree_model_param": {"num_trees": str(len(trees)), "num_parallel_tree": "1"},
            "tree_info": [0] * len(trees), "trees": trees}},
        "objective": {"name": "reg:squarederror", "reg_loss_param": {"scale_pos_weight": "1"}},
        "feature_names": [], "feature_types": [], "attributes": {}},
        "version": [2, 0, 3]}


def many_leaf_trees_xgb(count):
    """An XGBoost document of `count` one-leaf trees, written directly as text (several megabytes)."""
    leaf = ('{"tree_param":{"num_nodes":"1","size_leaf_vector":"1"},"left_children":[-1],"right_children":[-1],'
            '"split_indices":[0],"split_conditions":[1E-3],"default_left":[0],"split_type":[0],'
            '"categories_nodes":[]}')
    return ('{"learner":{"learner_model_param":{"num_feature":"2","num_class":"0","base_score":"5E-1",'
            '"num_target":"1"},"gradient_booster":{"name":"gbtree","model":{"gbtree_model_param":{"num_trees":"'
            + str(count) + '"},"tree_info":[' + ",".join(["0"] * count) + '],"trees":['
            + ",".join([leaf] * count) + ']}},"objective":{"name":"reg:squarederror"}}}').encode()


def csv_rows(rows, seed=7):
    generator = random.Random(seed)
    lines = ["a,b,c,y"]
    for _ in range(rows):
        a, b, c = (generator.uniform(-5, 5) for _ in range(3))
        lines.append(f"{a:.4f},{b:.4f},{c:.4f},{3 * a - 2 * b + c * c + generator.gauss(0, 0.1):.4f}")
    return ("\n".join(lines) + "\n").encode()


def register(server, username, src=None, name="Attacker", email=None):
    return request(server, "POST", "/users/register", {
        "username": username, "email": email or f"{username}@attack.example", "nama_lengkap": name,
        "password": PASSWORD}, src=src or fresh_ip())


def login(server, username):
    """The account's access and refresh tokens (from a fresh address), or (None, None)."""
    response = request(server, "POST", "/users/login", {"username": username, "password": PASSWORD}, src=fresh_ip())
    data = response.data() or {}
    return data.get("access_token"), data.get("refresh_token")


def admin_create(server, username, tenant, role="user"):
    return request(server, "POST", "/admin/users", {
        "username": username, "email": f"{username}@attack.example", "nama_lengkap": "Feed User",
        "password": PASSWORD, "role": role, "tenant": tenant}, tok=admin())


def chat(server, tok, message, conversation=None):
    body = {"message": message}
    if conversation:
        body["conversation_id"] = conversation
    response = request(server, "POST", "/chat/message", body, tok=tok)
    return (response.data() or {}).get("conversation_id"), response


def predict(server, tok, model="feed", features=(1, 2)):
    return request(server, "POST", f"/predict/{model}", {"features": list(features)}, tok=tok)


def store_size(home):
    total = 0
    for name in ("xalorra.db", "xalorra.db-wal", os.path.join("logs", "predictions.log")):
        try:
            total += os.path.getsize(os.path.join(home, name))
        except OSError:
            pass
    return total


# ---------------------------------------------------------------------------------------------------------------------
# Item 1: numbers decoded from outside become integers only when in range

def attack_numbers(main):
    tok = token(tenant="t-imports")
    control = request(main, "POST", "/models/imp/import", export_doc(), tok=tok)
    report(1, "control: a valid export document imports", control.status == 201, control.brief())

    def tree(**override):
        base = {"feature": [0, -1, -1], "threshold": [0.5, 0, 0], "left": [1, -1, -1], "right": [2, -1, -1],
                "default_left": [1, 0, 0], "value": [0, 1, 2]}
        base.update(override)
        return [base]

    export_attacks = []
    for value in ["1e19", "-1e19", "1e300", "2.5", "99999999999999999999", "-9223372036854775809"]:
        export_attacks.append((f"export feature_count={value}", ("feature_count", value)))
        export_attacks.append((f"export feature[0]={value}", ("feature", f"[{value},-1,-1]")))
        export_attacks.append((f"export left[0]={value}", ("left", f"[{value},-1,-1]")))
    export_attacks += [
        ("export right[0]=1e300", ("right", "[2e300,-1,-1]")),
        ("export child index past the nodes (left[0]=7)", ("left", "[7,-1,-1]")),
        ("export self-referencing child (left[0]=0)", ("left", "[0,-1,-1]")),
        ("export cycle (node 1 points back at 0)", ("cycle", None)),
        ("export feature index >= feature_count (feature[0]=5)", ("feature", "[5,-1,-1]")),
        ("export negative split feature (feature[0]=-2147483649)", ("feature", "[-2147483649,-1,-1]")),
    ]
    marker = "__VALUE__"
    for what, (field, value) in export_attacks:
        document = export_doc()
        if field == "feature_count":
            document["model"]["feature_count"] = marker
            text = json.dumps(document).replace(f'"{marker}"', value)
        elif field == "cycle":
            document["model"]["trees"] = tree(feature=[0, 0, -1], left=[1, 0, -1], right=[2, 2, -1])
            text = json.dumps(document)
        else:
            document["model"]["trees"][0][field] = marker
            text = json.dumps(document).replace(f'"{marker}"', value)
        response = request(main, "POST", "/models/imp/import", text, tok=tok)
        expect(1, what, main, response, {422}, {"VALIDATION_ERROR"})

    xgb_attacks = [
        ("xgboost num_feature=1e19 (number)", xgb_doc(num_feature=marker), "1e19"),
        ("xgboost num_feature=\"1e19\" (string)", xgb_doc(num_feature="1e19"), None),
        ("xgboost num_feature=-1e19", xgb_doc(num_feature=marker), "-1e19"),
        ("xgboost num_feature=1e300", xgb_doc(num_feature=marker), "1e300"),
        ("xgboost num_feature=2.5", xgb_doc(num_feature=marker), "2.5"),
        ("xgboost num_class=99999999999999999999", xgb_doc(num_class=marker), "99999999999999999999"),
        ("xgboost left_children[0]=1e19", xgb_doc([xgb_tree(left_children=marker)]), "[1e19,-1,-1]"),
        ("xgboost left_children[0]=-1e19", xgb_doc([xgb_tree(left_children=marker)]), "[-1e19,-1,-1]"),
        ("xgboost right_children[0]=1e300", xgb_doc([xgb_tree(right_children=marker)]), "[2,1e300,-1]"),
        ("xgboost left_children[0]=2.5", xgb_doc([xgb_tree(left_children=marker)]), "[2.5,-1,-1]"),
        ("xgboost child index past the nodes", xgb_doc([xgb_tree(left_children=[9, -1, -1])]), None),
        ("xgboost self-referencing child", xgb_doc([xgb_tree(left_children=[0, -1, -1])]), None),
        ("xgboost split_indices[0]=7 >= num_feature", xgb_doc([xgb_tree(split_indices=[7, 0, 0])]), None),
        ("xgboost split_indices[0]=1e19", xgb_doc([xgb_tree(split_indices=marker)]), "[1e19,0,0]"),
        ("xgboost num_trees=1e19", None, "num_trees"),
        ("xgboost num_nodes=\"99999999999999999999\"",
         xgb_doc([xgb_tree(tree_param={"num_nodes": "99999999999999999999", "size_leaf_vector": "1"})]), None),
        ("xgboost size_leaf_vector=1e300", xgb_doc([xgb_tree(tree_param={"num_nodes": "3",
                                                                          "size_leaf_vector": marker})]), "1e300"),
    ]
    for what, document, value in xgb_attacks:
        if value == "num_trees":
            document = xgb_doc()
            document["learner"]["gradient_booster"]["model"]["gbtree_model_param"]["num_trees"] = marker
            value = "1e19"
        text = json.dumps(document)
        if value is not None:
            text = text.replace(f'"{marker}"', value)
        response = request(main, "POST", "/models/imp/import", text, tok=tok)
        expect(1, what, main, response, {422}, {"VALIDATION_ERROR"})

    versions = request(main, "GET", "/models/imp", tok=tok)
    stored = len((versions.data() or {}).get("versions", [])) if versions.status == 200 else -1
    report(1, "refused imports stored nothing", stored == 1, f"model imp has {stored} version(s) (1: the control)")

    oip_tok = token(tenant="t-oip")
    shapes = [("[1e19,1]", "[1e19,1]"), ("[-1,3]", "[-1,3]"), ("[99999999999999999999,1]", "[99999999999999999999,1]"),
              ("[2.5,2]", "[2.5,2]"), ("[1e300]", "[1e300]"), ("[4294967296,4294967296] (product overflows)",
                                                              "[4294967296,4294967296]"),
              ("[3037000500,3037000500] (product past 2^63)", "[3037000500,3037000500]"),
              ("[9223372036854775807,2]", "[9223372036854775807,2]")]
    for what, shape in shapes:
        body = '{"inputs":[{"name":"f","shape":' + shape + ',"datatype":"FP64","data":[1,2,3]}]}'
        response = request(main, "POST", "/v2/models/oipx/infer", body, tok=oip_tok)
        expect(1, f"OIP infer shape {what}", main, response, {400, 413, 422}, {"OIP"})

    qtok = token(tenant="t-query")
    conversation, _ = chat(main, qtok, "hello")
    routes = [("/logs", "/logs", qtok), ("/models", "/models", qtok), ("/train/jobs", "/train/jobs", qtok),
              ("/chat/histories", "/chat/histories", qtok),
              ("/chat/histories/{conversation_id}", f"/chat/histories/{conversation}", qtok),
              ("/admin/users", "/admin/users", admin())]
    bad = ["1e19", "99999999999999999999", "-1", "9223372036854775808", "2.5", "0x10"]
    for label, path, route_tok in routes:
        outcomes = []
        ok = True
        for name in ("limit", "offset"):
            for value in bad:
                if name == "limit" or value != "0x10":
                    response = request(main, "GET", f"{path}?{name}={value}", tok=route_tok)
                    outcomes.append(f"{name}={value}:{response.status}")
                    ok = ok and response.status == 422 and response.code == "VALIDATION_ERROR"
            response = request(main, "GET", f"{path}?{name}=9223372036854775807", tok=route_tok)
            outcomes.append(f"{name}=2^63-1:{response.status}")
            ok = ok and response.status in ({422} if name == "limit" else {200, 422})
        alive, note = survives(main)
        failing = [o for o in outcomes if not o.endswith(":422") and not o.startswith("offset=2^63-1:200")]
        report(1, f"GET {label} limit/offset out of range", ok and alive,
               f"{len(outcomes) - len(failing)}/{len(outcomes)} refused or empty"
               f"{'; not: ' + ', '.join(failing) if failing else ''}; {note}")

    for what, time_query in [("since=9223372036854775807s", "since=9223372036854775807s"),
                             ("since=99999999999999d", "since=99999999999999d"),
                             ("until=15250w (near the limit)", "until=15250w"),
                             ("since=9999-12-31T23:59:59+99:99", "since=9999-12-31T23:59:59%2B99:99")]:
        response = request(main, "GET", f"/logs?{time_query}", tok=qtok)
        expect(2, f"GET /logs?{what}", main, response, {200, 422})

    hyper_tok = token(tenant="t-hyper")
    data = csv_rows(30)
    for what in ["trees=1e19", "trees=1e300", "trees=2.5", "trees=-1e19", "max_depth=99999999999999999999",
                 "bins=1e19", "threads=1e19", "seed=1e19", "early_stopping=1e19", "min_samples_leaf=1e19",
                 "trees=100000000000000"]:
        response = request(main, "POST", f"/train/hp?target=y&{what}", data, tok=hyper_tok,
                           headers={"Content-Type": "text/csv"})
        expect(1, f"POST /train/m?{what}", main, response, {422}, {"VALIDATION_ERROR"})
    json_body = '{"target":"y","trees":1e19,"max_depth":1e300,"columns":["a","y"],"rows":[[1,2],[3,4],[5,6]]}'
    response = request(main, "POST", "/train/hp", json_body, tok=hyper_tok)
    expect(1, "POST /train/m JSON body trees=1e19 max_depth=1e300", main, response, {422}, {"VALIDATION_ERROR"})
    for what, body in [("/predict {\"features\": [1e400]}", '{"features":[1e400,1]}'),
                       ("/predict {\"features\": [-1e309]}", '{"features":[-1e309,1]}'),
                       ("/predict {\"instances\": [[1e400]]}", '{"instances":[[1e400,1]]}')]:
        response = request(main, "POST", "/predict/x", body, tok=hyper_tok)
        expect(1, f"{what} (beyond a double)", main, response, {400, 422}, {"VALIDATION_ERROR"})
    response = request(main, "POST", "/v2/models/x/infer",
                       '{"inputs":[{"name":"f","shape":[1,2],"datatype":"FP64","data":[1e400,1]}]}', tok=hyper_tok)
    expect(1, "OIP FP64 data 1e400", main, response, {400, 422}, {"OIP"})
    response = request(main, "POST", "/v2/models/x/infer",
                       '{"inputs":[{"name":"f","shape":[1,2],"datatype":"FP32","data":[1e39,1]}]}', tok=hyper_tok)
    expect(1, "OIP FP32 data 1e39 (beyond a float)", main, response, {200, 400, 422},
           extra_ok=strict_json(response.body), extra="body is strict JSON" if strict_json(response.body) else
           f"body not strict JSON: {response.body[:80]!r}")
    response = request(main, "POST", "/train/hp", '{"target":"y","columns":["a","y"],"rows":[[1e400,2],[3,4],[5,6]]}',
                       tok=hyper_tok)
    expect(1, "POST /train/m JSON rows holding 1e400", main, response, {400, 422}, {"VALIDATION_ERROR"})
    jobs = request(main, "GET", "/train/jobs", tok=hyper_tok)
    total = ((jobs.json() or {}).get("pagination") or {}).get("total")
    report(1, "refused training requests queued nothing", total == 0, f"jobs in the tenant: {total}")


# ---------------------------------------------------------------------------------------------------------------------
# Item 2: correctly signed tokens with extreme times

def attack_token_times(main):
    now = int(time.time())
    cases = [
        ("exp=2^63-1", {"exp": 2**63 - 1}, {200, 401}),
        ("exp=1e300", {"exp": 1e300}, {401}),
        ("exp=-2^63", {"exp": -2**63}, {401}),
        ("exp=-1e300", {"exp": -1e300}, {401}),
        ("exp=2.5", {"exp": 2.5}, {401}),
        ("iat=2^63-1", {"iat": 2**63 - 1}, {401}),
        ("iat=-2^63", {"iat": -2**63}, {200, 401}),
        ("iat=1e300", {"iat": 1e300}, {401}),
        ("nbf=2^63-1", {"nbf": 2**63 - 1}, {401}),
        ("nbf=1e300", {"nbf": 1e300}, {401}),
        ("nbf=1e19", {"nbf": 1e19}, {401}),
        ("nbf=-2^63", {"nbf": -2**63}, {200, 401}),
        ("exp=2^63-1 and iat=-2^63", {"exp": 2**63 - 1, "iat": -2**63}, {200, 401}),
    ]
    for what, override, statuses in cases:
        tok = forge(claims(unique("time-"), **override))
        first = request(main, "GET", "/whoami", tok=tok)
        second = request(main, "GET", "/whoami", tok=tok)
        consistent = first.status == second.status
        expect(2, f"signed token {what} on /whoami (twice: verified, then cached)", main, first, statuses,
               extra_ok=consistent, extra=f"again {second.brief()}")
    refresh = forge(claims(unique("time-"), typ="refresh", exp=2**63 - 1))
    response = request(main, "POST", "/users/refresh", {"refresh_token": refresh}, src=fresh_ip())
    expect(2, "signed refresh token exp=2^63-1 on /users/refresh", main, response, {401})
    response = request(main, "POST", "/users/logout", {"refresh_token": forge(claims("x-time", typ="refresh",
                                                                                     exp=-2**63))},
                       tok=token())
    expect(2, "signed refresh token exp=-2^63 on /users/logout", main, response, {204, 401, 403})
    for what, ttl in [("ttl=9223372036854775807", 2**63 - 1), ("ttl=1e19", "1e19"), ("ttl=1e300", "1e300"),
                      ("ttl=\"999999999999999d\"", "\"999999999999999d\""), ("ttl=\"15250w\"", "\"15250w\"")]:
        body = '{"user":"ttl-user","ttl":' + str(ttl) + '}'
        response = request(main, "POST", "/admin/tokens", body, tok=admin())
        expect(2, f"POST /admin/tokens {what}", main, response, {201, 200, 422})
    for what, ttl in [("--ttl 999999999d", "999999999d"), ("--ttl 9223372036854775807s", "9223372036854775807s")]:
        status, out, err = cli(["token", "--ttl", ttl], main.home, timeout=20)
        report(2, f"offline xalorra token {what}", status in (0, 2),
               f"exit {status}, {err.decode(errors='replace').strip()[:80]!r}")
    # A stream opened with a token that expires at the end of time: its expiry timer must not overflow.
    tok = forge(claims(unique("time-"), tenant="t-time", exp=2**63 - 1))
    raw = Raw(main)
    raw.send(f"GET /logs/stream?access_token={tok} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    status, _ = raw.head(time.time() + 5)
    time.sleep(1.5)
    alive, note = survives(main)
    raw.close()
    report(2, "SSE /logs/stream with exp=2^63-1", status in (200, 401) and alive, f"{status}; {note}")
    feed = Feed(main, "ws", forge(claims(unique("time-"), tenant="t-time", exp=2**63 - 1)), "ws")
    feed.hard_deadline = time.time() + 1.5
    feed.start()
    feed.join(10)
    alive, note = survives(main)
    report(2, "WebSocket /ws/predictions upgrade with exp=2^63-1", feed.status in (101, 400, 401) and alive,
           f"{feed.status}; {note}")


# ---------------------------------------------------------------------------------------------------------------------
# Item 3: ownership follows the account, not the name

def attack_identity(main):
    first = register(main, "bob")
    bob1, bob1_refresh = login(main, "bob")
    secret_conversation, sent = chat(main, bob1, "bob-the-first secret")
    bob_model = request(main, "POST", "/models/bobmodel/import", export_doc(), tok=bob1)
    predict(main, bob1, "bobmodel")
    setup = first.status == 201 and bob1 and secret_conversation and bob_model.status == 201
    deleted = request(main, "DELETE", "/admin/users/bob", tok=admin())
    again = register(main, "bob")
    bob2, _ = login(main, "bob")
    report(3, "setup: bob registers, chats, imports, is deleted, registers again",
           bool(setup and deleted.status == 204 and again.status == 201 and bob2),
           f"register {first.status}, chat {sent.status}, import {bob_model.status}, delete {deleted.status}, "
           f"register {again.status}, login {'ok' if bob2 else 'failed'}")
    listing = request(main, "GET", "/chat/histories", tok=bob2)
    total = ((listing.json() or {}).get("pagination") or {}).get("total")
    report(3, "new bob lists no conversation of the deleted bob",
           listing.status == 200 and total == 0 and b"bob-the-first" not in listing.body,
           f"{listing.brief()}, total {total}")
    by_id = request(main, "GET", f"/chat/histories/{secret_conversation}", tok=bob2)
    report(3, "new bob cannot read the deleted bob's conversation by id",
           by_id.status in (403, 404) and b"bob-the-first" not in by_id.body, by_id.brief())
    post = request(main, "POST", "/chat/message", {"message": "hi", "conversation_id": secret_conversation}, tok=bob2)
    report(3, "new bob cannot post into the deleted bob's conversation", post.status in (403, 404), post.brief())
    models = request(main, "GET", "/models/bobmodel", tok=bob2)
    report(3, "new bob does not inherit the deleted bob's model", models.status == 404, models.brief())
    logs = request(main, "GET", "/logs?model=bobmodel", tok=bob2)
    total = ((logs.json() or {}).get("pagination") or {}).get("total")
    report(3, "new bob does not see the deleted bob's predictions", logs.status == 200 and total == 0,
           f"{logs.brief()}, total {total}")
    old = request(main, "GET", "/chat/histories", tok=bob1)
    report(3, "the deleted bob's old access token is refused", old.status == 401, old.brief())
    refreshed = request(main, "POST", "/users/refresh", {"refresh_token": bob1_refresh}, src=fresh_ip())
    report(3, "the deleted bob's refresh token is refused", refreshed.status == 401, refreshed.brief())

    minted = token("carol")
    minted_conversation, sent = chat(main, minted, "carol-minted secret")
    registered = register(main, "carol")
    carol, _ = login(main, "carol")
    report(3, "setup: a minted carol token chats, then carol registers",
           bool(minted_conversation and registered.status == 201 and carol),
           f"chat {sent.status}, register {registered.status}, login {'ok' if carol else 'failed'}")
    listing = request(main, "GET", "/chat/histories", tok=carol)
    total = ((listing.json() or {}).get("pagination") or {}).get("total")
    report(3, "registered carol lists none of the minted token's chats",
           listing.status == 200 and total == 0 and b"carol-minted" not in listing.body,
           f"{listing.brief()}, total {total}")
    by_id = request(main, "GET", f"/chat/histories/{minted_conversation}", tok=carol)
    report(3, "registered carol cannot read the minted token's chat by id",
           by_id.status in (403, 404) and b"carol-minted" not in by_id.body, by_id.brief())
    account_conversation, sent = chat(main, carol, "carol-account secret")
    listing = request(main, "GET", "/chat/histories", tok=minted)
    leaked = b"carol-account" in listing.body or (account_conversation or "-") in listing.body.decode(errors="ignore")
    report(3, "the old minted carol token cannot list the account's chats",
           listing.status in (200, 401) and not leaked and bool(account_conversation),
           f"{listing.brief()}, account chat {'listed' if leaked else 'absent'}")
    by_id = request(main, "GET", f"/chat/histories/{account_conversation}", tok=minted)
    report(3, "the old minted carol token cannot read the account's chat by id",
           by_id.status in (401, 403, 404) and b"carol-account" not in by_id.body, by_id.brief())
    late = token("carol", iat=int(time.time()) + 1)
    own = request(main, "GET", f"/chat/histories/{account_conversation}", tok=late)
    theirs = request(main, "GET", f"/chat/histories/{minted_conversation}", tok=late)
    report(3, "a carol token minted after the account does not open the minted chat",
           theirs.status in (401, 403, 404) and b"carol-minted" not in theirs.body,
           f"minted chat {theirs.brief()}, the account's chat {own.brief()}")
    report(3, "server after the identity attacks", *survives(main))


# ---------------------------------------------------------------------------------------------------------------------
# Item 6: an anonymous registrant reaches nothing of the operator's

def operator_setup(main_home):
    """Offline, before the server starts: the operator's model and prediction in the default tenant."""
    path = os.path.join(WORK, "ops.json")
    with open(path, "w") as out:
        json.dump(export_doc(), out)
    results = [cli(["models", "import", "ops_private", path], main_home)[0],
               cli(["predict", "ops_private", "1", "2"], main_home)[0],
               cli(["models", "import", "termmodel", path], main_home)[0],
               cli(["users", "add", "evil_direct", "--email", "clean@attack.example", "--name", "Clean Name",
                    "--password-stdin"], main_home, stdin=(PASSWORD + "\n").encode())[0]]
    if any(status != 0 for status in results):
        raise SystemExit(f"attack: offline operator setup failed: {results}")
    # What a store written before control characters were refused may hold (item 8).
    database = sqlite3.connect(os.path.join(main_home, "xalorra.db"), timeout=15)
    database.execute("UPDATE users SET nama_lengkap = ?, email = ? WHERE username = 'evil_direct'",
                     ("Eve\x1b[2J\x1b[31mFAKE\x07\rroot admin\x9b1m\x08", "eve\x1b]0;pwned\x07@x.io"))
    database.execute("UPDATE model_versions SET features = ? WHERE model_id = "
                     "(SELECT id FROM models WHERE name = 'termmodel')",
                     (json.dumps(["a\x1b[2Jb", "c\x07\r\x00d"]),))
    database.commit()
    database.close()


def attack_registrant(main):
    ops = admin()
    job = request(main, "POST", "/train/ops_job?target=y&trees=5", csv_rows(40), tok=ops,
                  headers={"Content-Type": "text/csv"})
    job_id = (job.data() or {}).get("id")
    name = unique("anon")
    registered = register(main, name)
    anon, _ = login(main, name)
    who = request(main, "GET", "/whoami", tok=anon)
    tenant = (who.json() or {}).get("tenant")
    report(6, "setup: operator model/prediction offline, job queued; anonymous registration",
           bool(job_id and registered.status == 201 and anon), f"job {job.brief()}, register {registered.brief()}")
    report(6, "a self-registered account is not in the operator's tenant", tenant not in (None, "default"),
           f"tenant {tenant!r}")
    answer = predict(main, anon, "ops_private")
    version = (answer.json() or {}).get("version")
    report(6, "POST /predict/ops_private does not use the operator's model", version != "1" and answer.status != 0,
           f"{answer.brief()}, version {version!r}")
    logs = request(main, "GET", "/logs?model=ops_private&limit=100", tok=anon)
    operator_rows = [item for item in (logs.data() or []) if item.get("user_id") != name]
    report(6, "GET /logs shows none of the operator's predictions", logs.status == 200 and not operator_rows,
           f"{logs.brief()}, operator rows {len(operator_rows)}")
    listing = request(main, "GET", "/models", tok=anon)
    report(6, "GET /models lists no operator model", listing.status == 200 and b"ops_private" not in listing.body,
           listing.brief())
    metadata = request(main, "GET", "/v2/models/ops_private", tok=anon)
    versions = (metadata.json() or {}).get("versions")
    shape = (((metadata.json() or {}).get("inputs") or [{}])[0]).get("shape")
    report(6, "GET /v2/models/ops_private shows none of the operator's versions",
           metadata.status in (403, 404) or (metadata.status == 200 and isinstance(versions, list) and
                                            not any(str(v).isdigit() for v in versions) and shape != [-1, 2]),
           f"{metadata.brief()}, versions {versions!r}, input shape {shape!r}")
    for what, method, path in [("GET /models/ops_private", "GET", "/models/ops_private"),
                               ("GET .../versions/latest", "GET", "/models/ops_private/versions/latest"),
                               ("GET .../export", "GET", "/models/ops_private/versions/1/export"),
                               ("GET /v2/models/ops_private/versions/1", "GET", "/v2/models/ops_private/versions/1"),
                               ("DELETE /models/ops_private/versions/1", "DELETE", "/models/ops_private/versions/1"),
                               ("DELETE /models/ops_private", "DELETE", "/models/ops_private")]:
        response = request(main, method, path, tok=anon)
        report(6, f"{what} as the registrant", response.status in (403, 404) and
               b"f0" not in response.body, response.brief())
    still = request(main, "GET", "/models/ops_private", tok=ops)
    report(6, "the operator's model still exists", still.status == 200, still.brief())
    for path in ("/logs?tenant=default", "/models?tenant=default"):
        other = request(main, "GET", path, tok=anon)
        report(6, f"GET {path} refused", other.status in (403, 404) or
               (other.status == 200 and b"ops_" not in other.body), other.brief())
    raw = Raw(main)
    raw.send(f"GET /logs/stream?tenant=default&access_token={anon} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
             .encode())
    status, _ = raw.head(time.time() + 5)
    raw.close()
    report(6, "GET /logs/stream?tenant=default refused", status in (403, 404), f"{status}")
    jobs = request(main, "GET", "/train/jobs", tok=anon)
    report(6, "GET /train/jobs lists no operator job", jobs.status == 200 and b"ops_job" not in jobs.body,
           jobs.brief())
    one = request(main, "GET", f"/train/jobs/{job_id}", tok=anon)
    report(6, "GET /train/jobs/{operator job} refused", one.status in (403, 404), one.brief())
    cancel = request(main, "DELETE", f"/train/jobs/{job_id}", tok=anon)
    state = (request(main, "GET", f"/train/jobs/{job_id}", tok=ops).data() or {}).get("status")
    report(6, "DELETE /train/jobs/{operator job} refused", cancel.status in (403, 404) and state != "cancelled",
           f"{cancel.brief()}, job {state}")
    raw = Raw(main)
    raw.send(f"GET /logs/stream?access_token={anon} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    status, _ = raw.head(time.time() + 5)
    predict(main, ops, "ops_private", (3, 4))
    predict(main, anon, "anon_own", (5, 6))
    deadline = time.time() + 3
    while b"anon_own" not in raw.buffer and time.time() < deadline:
        raw.fill(deadline)
    report(6, "/logs/stream carries none of the operator's predictions",
           status == 200 and b"anon_own" in raw.buffer and b"ops_private" not in raw.buffer,
           f"{status}, own event {'seen' if b'anon_own' in raw.buffer else 'missing'}, operator event "
           f"{'seen' if b'ops_private' in raw.buffer else 'absent'}")
    raw.close()
    report(6, "server after the registrant's attacks", *survives(main))


# ---------------------------------------------------------------------------------------------------------------------
# Item 8: terminal escapes never reach an operator's terminal

def attack_terminal(main):
    hostile = "Eve\x1b[2J\x1b[31m\x1b]0;owned\x07\rFAKE ROW"
    name = unique("eve")
    response = register(main, name, name=hostile)
    report(8, "register with ESC/OSC/BEL/CR in the full name: stored as sent or refused",
           response.status in (201, 422), response.brief())
    for what, username, email in [("ESC in the username", "ev\x1b[2Je", None),
                                  ("CR in the username", "eve\r", None),
                                  ("BEL in the email", unique("eve"), "eve\x07@attack.example"),
                                  ("OSC in the email", unique("eve"), "e\x1b]0;x\x07ve@attack.example"),
                                  ("bidi override in the username", "ev\u202ee", None)]:
        response = register(main, username, email=email)
        report(8, f"register with {what}", response.status == 422 and response.code == "VALIDATION_ERROR",
               response.brief())
    response = request(main, "POST", "/admin/users", {"username": "adm\x1bin", "email": "a@attack.example",
                                                      "nama_lengkap": "x", "password": PASSWORD}, tok=admin())
    report(8, "POST /admin/users with ESC in the username", response.status == 422, response.brief())

    title_user = unique("tok-title-")
    conversation, _ = chat(main, token(title_user), "title me")
    renamed = request(main, "PUT", f"/chat/histories/{conversation}/title",
                      {"title": "T\x1b]0;pwned\x07\x1b[2J\rX"}, tok=token(title_user))

    def clean(what, args, needle):
        status, out, err = cli(args, main.home, timeout=30)
        raw = [repr(byte) for byte in CONTROL_BYTES if byte in out or byte in err]
        visible = needle.encode() in out
        report(8, what, status == 0 and not raw and visible,
               f"exit {status}, {len(out)} bytes, raw control bytes {raw or 'none'}, "
               f"row {'shown' if visible else 'missing'}")

    clean("offline `users list` escapes a stored ESC/OSC/BEL/CR/C1 name and email", ["users", "list", "--limit", "100"],
          "evil_direct")
    clean("offline `users show` escapes them", ["users", "show", "evil_direct"], "evil_direct")
    clean("offline `models show` escapes stored feature names", ["models", "show", "termmodel"], "termmodel")
    if renamed.status == 200:
        clean("offline `chat list` escapes a title with OSC/BEL/CR", ["--as", title_user, "chat", "list"],
              conversation or "conv")
    else:
        report(8, "a chat title with OSC/BEL/CR is stored or refused", renamed.status == 422, renamed.brief())
    status, out, _ = cli(["users", "list", "--json", "--limit", "100"], main.home, timeout=30)
    try:
        names = [user.get("nama_lengkap") for user in json.loads(out)["data"]]
        round_trip = "Eve\x1b[2J\x1b[31mFAKE\x07\rroot admin\x9b1m\x08" in names
    except (ValueError, KeyError, TypeError):
        round_trip = False
    report(8, "`users list --json` is JSON with the original string escaped",
           status == 0 and round_trip and b"\x1b" not in out, f"exit {status}, round trip {round_trip}")
    for what, path in [("ESC in a model name", "/models/m%1B%5B2J/import"),
                       ("NUL in a model name", "/models/m%00/import")]:
        response = request(main, "POST", path, export_doc(), tok=token(tenant="t-term"))
        expect(8, f"import with {what}", main, response, {404, 422})
    document = export_doc()
    document["features"] = ["a\x1b[2J", "b\x07"]
    response = request(main, "POST", "/models/termfeat/import", document, tok=token(tenant="t-term"))
    expect(8, "import with ESC/BEL in feature names", main, response, {422}, {"VALIDATION_ERROR"})
    response = request(main, "POST", "/train/termtrain?target=y", b"a\x1b[2J,y\n1,2\n3,4\n5,6\n7,8\n",
                       tok=token(tenant="t-term"), headers={"Content-Type": "text/csv"})
    expect(8, "training CSV with ESC in a column name", main, response, {422}, {"VALIDATION_ERROR"})
    report(8, "server after the terminal attacks", *survives(main))


# ---------------------------------------------------------------------------------------------------------------------
# Item 7: live feeds end with access

class Feed(threading.Thread):
    """One SSE or WebSocket subscriber, read until it ends or `hard_deadline`."""

    def __init__(self, server, kind, tok, label):
        super().__init__(daemon=True)
        self.server, self.kind, self.tok, self.label = server, kind, tok, label
        self.status = 0
        self.events = []          # (time, text)
        self.ended_at = None
        self.final = None         # the final event or close frame, as text
        self.hard_deadline = time.time() + 30
        self.ready = threading.Event()

    def run(self):
        try:
            raw = Raw(self.server)
            if self.kind == "sse":
                self.sse(raw)
            else:
                self.websocket(raw)
            raw.close()
        finally:
            self.ready.set()

    def sse(self, raw):
        raw.send(f"GET /logs/stream?access_token={self.tok} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                 "Connection: close\r\n\r\n".encode())
        self.status, _ = raw.head(time.time() + 10)
        self.ready.set()
        if self.status != 200:
            return
        seen = b""
        while time.time() < self.hard_deadline:
            raw.fill(min(self.hard_deadline, time.time() + 0.2))
            if raw.buffer:
                seen += raw.buffer
                self.events.append((time.time(), raw.buffer.decode(errors="replace")))
                raw.buffer = b""
            if raw.eof or seen.endswith(b"\r\n0\r\n\r\n"):
                self.ended_at = time.time()
                if b"event:" in seen:
                    tail = seen[seen.rfind(b"event:"):]
                    self.final = tail.decode(errors="replace").replace("\r\n", " ").replace("\n", " ")[:110]
                return

    def websocket(self, raw):
        key = base64.b64encode(os.urandom(16)).decode()
        raw.send(f"GET /ws/predictions?access_token={self.tok} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        self.status, headers = raw.head(time.time() + 10)
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        if self.status == 101 and headers.get("sec-websocket-accept") != accept.decode():
            self.status = -101
        self.ready.set()
        if self.status != 101:
            return
        while time.time() < self.hard_deadline:
            head = raw.read_exact(2, min(self.hard_deadline, time.time() + 0.5))
            if head is None:
                if raw.eof:
                    self.ended_at = time.time()
                    return
                continue
            opcode, length = head[0] & 0x0F, head[1] & 0x7F
            if length == 126:
                length = struct.unpack(">H", raw.read_exact(2, self.hard_deadline) or b"\0\0")[0]
            elif length == 127:
                length = struct.unpack(">Q", raw.read_exact(8, self.hard_deadline) or b"\0" * 8)[0]
            mask = raw.read_exact(4, self.hard_deadline) if head[1] & 0x80 else None
            payload = raw.read_exact(length, self.hard_deadline) or b""
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x1:
                self.events.append((time.time(), payload.decode(errors="replace")))
            elif opcode == 0x9:
                masking = os.urandom(4)
                masked = bytes(b ^ masking[i % 4] for i, b in enumerate(payload))
                raw.send(bytes([0x8A, 0x80 | len(payload)]) + masking + masked)
            elif opcode == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                self.final = f"close frame {code} {payload[2:].decode(errors='replace')!r}"
                self.ended_at = time.time()
                return


def attack_feeds(main):
    accounts = []
    for kind, action in [("sse", "disable"), ("ws", "disable"), ("ws", "move"), ("sse", "delete"),
                         ("sse", "demote")]:
        user = unique("feedacct")
        created = admin_create(main, user, f"t-{user}", role="admin" if action == "demote" else "user")
        tok, _ = login(main, user)
        if created.status != 201 or not tok:
            report(7, f"setup: account for the {action} feed", False, f"create {created.brief()}, login {bool(tok)}")
            continue
        label = {"disable": "an admin disables the account", "move": "an admin moves the account to another tenant",
                 "delete": "an admin deletes the account",
                 "demote": "an admin demotes the (admin) account to user"}[action]
        accounts.append((Feed(main, kind, tok, f"{'SSE' if kind == 'sse' else 'WebSocket'} after {label}"),
                         f"t-{user}", user, action))
    user = unique("feed-exp-")
    status, out, _ = cli(["token", "--user", user, "--tenant", f"t-{user}", "--ttl", "2s"], main.home)
    tok = out.decode().strip()
    exp = json.loads(b64u_decode(tok.split(".")[1]))["exp"] if status == 0 else time.time()
    expiring = [(Feed(main, kind, tok, f"{'SSE' if kind == 'sse' else 'WebSocket'} with a token minted --ttl 2s"),
                 f"t-{user}", exp, "its expiry") for kind in ("sse", "ws")]
    feeds = [entry[0] for entry in expiring + accounts]
    for feed in feeds:
        feed.start()
    for feed in feeds:
        feed.ready.wait(10)
    tenants = sorted({entry[1] for entry in expiring + accounts})
    feeders = {tenant: token(tenant=tenant) for tenant in tenants}
    for tenant in tenants:
        predict(main, feeders[tenant], "feedcontrol")
    time.sleep(0.5)
    cut = {}
    ops = admin()
    for feed, tenant, user, action in accounts:
        cut[feed] = time.time()
        if action == "disable":
            request(main, "PATCH", f"/admin/users/{user}", {"is_active": False}, tok=ops)
        elif action == "move":
            request(main, "PATCH", f"/admin/users/{user}", {"tenant": "t-elsewhere"}, tok=ops)
        elif action == "demote":
            request(main, "PATCH", f"/admin/users/{user}", {"role": "user"}, tok=ops)
        else:
            request(main, "DELETE", f"/admin/users/{user}", tok=ops)
    for feed, tenant, exp, _ in expiring:
        cut[feed] = exp
    last = max(cut.values()) + 4.5
    while time.time() < last and any(feed.ended_at is None for feed in feeds):
        for tenant in tenants:
            predict(main, feeders[tenant], "feedafter")
        time.sleep(0.4)
    for feed in feeds:
        limit = cut[feed] + 3.5
        control = any("feedcontrol" in text for _, text in feed.events)
        leaked = sum(text.count("feedafter") for at, text in feed.events if at > cut[feed] + 1.5)
        ended = feed.ended_at is not None and feed.ended_at <= limit
        ok = feed.status in (200, 101) and ended and feed.final is not None
        when = f"ended {feed.ended_at - cut[feed]:+.1f} s after the cut" if feed.ended_at else \
            f"still open {time.time() - cut[feed]:.1f} s after the cut"
        report(7, f"{feed.label}", ok,
               f"{feed.status}, control event {'seen' if control else 'missing'}, {when}, "
               f"final {feed.final or 'none'}, {leaked} events after the cut")
        feed.hard_deadline = 0
    alive, note = survives(main)
    report(7, "server after the feeds were cut", alive, note)


# ---------------------------------------------------------------------------------------------------------------------
# Item 5: rows without features, batch caps

def attack_rows(main, small):
    tok = token(tenant="t-rows")
    before = store_size(main.home)
    logged_before = ((request(main, "GET", "/logs?limit=1", tok=tok).json() or {}).get("pagination") or {}).get("total")
    body = '{"inputs":[{"name":"f","shape":[10000000,0],"datatype":"FP64","data":[]}]}'
    response = request(main, "POST", "/v2/models/x/infer", body, tok=tok, timeout=60)
    quick = response.seconds < 2
    expect(5, "OIP infer shape [10000000,0] (a 90-byte request)", main, response, {400, 413, 422}, {"OIP"},
           extra_ok=quick, extra=f"{response.seconds:.2f} s")
    for what, shape, data in [("[1,0]", "[1,0]", "[]"), ("[0]", "[0]", "[]"), ("[3,0] nested", "[3,0]", "[[],[],[]]")]:
        response = request(main, "POST", "/v2/models/x/infer",
                           '{"inputs":[{"name":"f","shape":' + shape + ',"datatype":"FP64","data":' + data + '}]}',
                           tok=tok)
        expect(5, f"OIP infer shape {what}: rows without features", main, response, {400, 422}, {"OIP"})
    body = '{"instances":[' + ",".join(["[]"] * 50000) + "]}"
    response = request(main, "POST", "/predict/x", body, tok=tok, timeout=60)
    expect(5, "/predict {\"instances\": 50000 x []}", main, response, {400, 413, 422},
           extra_ok=response.seconds < 2, extra=f"{response.seconds:.2f} s, {len(body)} bytes")
    response = request(main, "POST", "/predict/x", {"features": []}, tok=tok)
    expect(5, "/predict {\"features\": []}", main, response, {400, 422})
    response = request(main, "POST", "/predict/x", {"instances": []}, tok=tok)
    expect(5, "/predict {\"instances\": []}", main, response, {200, 400, 422})
    grown = store_size(main.home) - before
    logged_after = ((request(main, "GET", "/logs?limit=1", tok=tok).json() or {}).get("pagination") or {}).get("total")
    report(5, "the refused requests logged nothing (text log + DB)",
           grown < 1_000_000 and logged_after == logged_before,
           f"store grew {grown} bytes, tenant rows {logged_before} -> {logged_after}")

    small_tok = token(tenant="t-cap")
    rows = [[i, i + 1] for i in range(51)]
    response = request(small, "POST", "/predict/x", {"instances": rows}, tok=small_tok)
    expect(5, "/predict batch of 51 rows, XALORRA_MAX_BATCH_ROWS=50", small, response, {413}, {"PAYLOAD_TOO_LARGE"})
    control = request(small, "POST", "/predict/x", {"instances": rows[:50]}, tok=small_tok)
    report(5, "control: a batch of 50 rows is answered", control.status == 200, control.brief())
    body = {"inputs": [{"name": "f", "shape": [51, 2], "datatype": "FP64", "data": sum(rows, [])}]}
    response = request(small, "POST", "/v2/models/x/infer", body, tok=small_tok)
    expect(5, "OIP infer of 51 rows, XALORRA_MAX_BATCH_ROWS=50", small, response, {413}, {"OIP"})
    body = {"inputs": [{"name": "a", "shape": [51], "datatype": "FP64", "data": list(range(51))},
                       {"name": "b", "shape": [51], "datatype": "FP64", "data": list(range(51))}]}
    response = request(small, "POST", "/v2/models/x/infer", body, tok=small_tok)
    expect(5, "OIP infer of 51 rows as two column inputs, cap 50", small, response, {413}, {"OIP"})


# ---------------------------------------------------------------------------------------------------------------------
# Item 9: memory from large model imports

def attack_memory(main, small):
    document = many_leaf_trees_xgb(60000)
    before = main.rss_mb()
    peak = [before]
    latencies = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], main.rss_mb())
            time.sleep(0.05)

    def probe():
        while not stop.is_set():
            latencies.append(health(main, timeout=5))
            time.sleep(0.25)

    watchers = [threading.Thread(target=watch, daemon=True), threading.Thread(target=probe, daemon=True)]
    for watcher in watchers:
        watcher.start()
    results = [None] * 4

    def upload(index):
        results[index] = request(main, "POST", f"/models/big{index}/import", document,
                                 tok=token(tenant="t-big"), timeout=120)

    uploads = [threading.Thread(target=upload, args=(i,)) for i in range(4)]
    started = time.time()
    for thread in uploads:
        thread.start()
    for thread in uploads:
        thread.join()
    elapsed = time.time() - started
    time.sleep(1)
    stop.set()
    for watcher in watchers:
        watcher.join()
    after = main.rss_mb()
    statuses = [r.brief() for r in results]
    slow = [note for ok, note in latencies if not ok]
    alive, note = survives(main)
    report(9, f"4 concurrent imports of 60000 one-leaf trees ({len(document) / 1e6:.1f} MB each)",
           all(r.status in (413, 422) for r in results) and alive,
           f"{', '.join(sorted(set(statuses)))} in {elapsed:.1f} s; {note}")
    report(9, "server memory stays bounded during them", peak[0] - before < 600 and after - before < 300,
           f"RSS {before:.0f} MB -> peak {peak[0]:.0f} MB -> {after:.0f} MB after")
    report(9, "/health stays fast during them", bool(latencies) and not slow,
           f"{len(latencies)} probes, {len(slow)} slow or failed{': ' + ', '.join(slow[:3]) if slow else ''}")

    tok = token(tenant="t-small-models")
    control = request(small, "POST", "/models/few/import", json.dumps(xgb_doc([xgb_tree()] * 50)), tok=tok)
    report(9, "control: 50 trees import under XALORRA_MAX_MODEL_TREES=100", control.status == 201, control.brief())
    response = request(small, "POST", "/models/many/import", json.dumps(xgb_doc([xgb_tree()] * 101)), tok=tok)
    expect(9, "XGBoost import of 101 trees, XALORRA_MAX_MODEL_TREES=100", small, response, {413, 422})
    trees = [{"feature": [0, -1, -1], "threshold": [0.5, 0, 0], "left": [1, -1, -1], "right": [2, -1, -1],
              "default_left": [1, 0, 0], "value": [0, 1, 2]}] * 101
    response = request(small, "POST", "/models/many/import", export_doc(trees=trees), tok=tok)
    expect(9, "export-format import of 101 trees, cap 100", small, response, {413, 422})
    count = 1101
    left = [2 * i + 1 if 2 * i + 2 < count else -1 for i in range(count)]
    right = [2 * i + 2 if 2 * i + 2 < count else -1 for i in range(count)]
    big_tree = xgb_tree(left_children=left, right_children=right, split_indices=[0] * count,
                        split_conditions=[0.5] * count, default_left=[0] * count, split_type=[0] * count,
                        tree_param={"num_nodes": str(count), "size_leaf_vector": "1"})
    response = request(small, "POST", "/models/nodes/import", json.dumps(xgb_doc([big_tree])), tok=tok)
    expect(9, f"XGBoost import of one {count}-node tree, XALORRA_MAX_MODEL_NODES=1000", small, response, {413, 422})
    response = request(small, "POST", "/train/deep?target=y&trees=10000&max_depth=16", csv_rows(200),
                       tok=tok, headers={"Content-Type": "text/csv"})
    job = response.data() or {}
    if response.status == 202 and job.get("id"):
        request(small, "DELETE", f"/train/jobs/{job['id']}", tok=tok)
    report(9, "training 10000 trees, cap 100 trees: refused up front", response.status in (413, 422),
           response.brief())

    peak_rss = [0]
    environment = dict(os.environ, **ENV_BASE, XALORRA_HOME=os.path.join(WORK, "zero"), XALORRA_USER="operator")
    os.makedirs(environment["XALORRA_HOME"], mode=0o700, exist_ok=True)
    process = subprocess.Popen([BIN, "models", "import", "zero", "/dev/zero"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=environment)
    record_pid(process.pid)
    started = time.time()
    while process.poll() is None and time.time() - started < 20:
        try:
            with open(f"/proc/{process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        peak_rss[0] = max(peak_rss[0], int(line.split()[1]) // 1024)
        except OSError:
            pass
        if peak_rss[0] > 1500:
            break
        time.sleep(0.05)
    timed_out = process.poll() is None
    if timed_out:
        process.kill()
    _, err = process.communicate()
    code = process.returncode
    report(9, "offline `models import x /dev/zero` ends with an error",
           not timed_out and code not in (0, None) and 0 < code < 128 and peak_rss[0] < 400,
           f"{'killed after ' + format(time.time() - started, '.0f') + ' s' if timed_out else 'exit ' + str(code)}"
           f" in {time.time() - started:.1f} s, peak RSS {peak_rss[0]} MB, "
           f"{err.decode(errors='replace').strip()[:90]!r}")


# ---------------------------------------------------------------------------------------------------------------------
# Item 10: the smaller ones

def attack_small(main, small, account):
    name, access, refresh = account
    login_response = request(main, "POST", "/users/login", {"username": name, "password": PASSWORD}, src=fresh_ip())
    refreshed = request(main, "POST", "/users/refresh", {"refresh_token": refresh}, src=fresh_ip())
    minted = request(main, "POST", "/admin/tokens", {"user": "cache-user"}, tok=admin())
    for what, response in [("/users/login", login_response), ("/users/refresh", refreshed),
                           ("/admin/tokens", minted)]:
        carries = b"access_token" in response.body
        report(10, f"{what} token response has Cache-Control: no-store",
               carries and "no-store" in (response.header("cache-control") or ""),
               f"{response.brief()}, Cache-Control {response.header('cache-control')!r}")

    tok = token(tenant="t-headers")
    samples = [("GET /", request(main, "GET", "/", src=fresh_ip())),
               ("GET /health", request(main, "GET", "/health", src=fresh_ip())),
               ("404 unknown path", request(main, "GET", "/nope-nosniff", src=fresh_ip())),
               ("401 no token", request(main, "GET", "/whoami", src=fresh_ip())),
               ("405", request(main, "DELETE", "/health", src=fresh_ip())),
               ("422", request(main, "GET", "/logs?limit=abc", tok=tok)),
               ("400 malformed JSON", request(main, "POST", "/echo", "{", tok=tok)),
               ("/openapi.json", request(main, "GET", "/openapi.json", src=fresh_ip())),
               ("/docs", request(main, "GET", "/docs", src=fresh_ip())),
               ("/v2 error", request(main, "POST", "/v2/models/x/infer", "{}", tok=tok)),
               ("WebSocket route without Upgrade", request(main, "GET", "/ws/predictions", tok=tok))]
    for what, response in samples:
        report(10, f"{what} has X-Content-Type-Options: nosniff",
               response.status != 0 and response.header("x-content-type-options") == "nosniff",
               f"{response.brief()}, {response.header('x-content-type-options')!r}")
    raw = Raw(main, src=fresh_ip())
    raw.send(f"GET /logs/stream?access_token={tok} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    status, headers = raw.head(time.time() + 5)
    raw.close()
    report(10, "SSE response head has nosniff", status == 200 and headers.get("x-content-type-options") == "nosniff",
           f"{status}, {headers.get('x-content-type-options')!r}")
    raw = Raw(main, src=fresh_ip())
    raw.send(f"POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\nContent-Length: 2000000\r\n\r\n"
             .encode() + b"[1,")
    status, headers = raw.head(time.time() + 5)
    raw.close()
    report(10, "413 past XALORRA_MAX_BODY has nosniff",
           status == 413 and headers.get("x-content-type-options") == "nosniff",
           f"{status}, {headers.get('x-content-type-options')!r}")
    raw = Raw(main, src=fresh_ip())
    raw.send(b"GET /\x01bad HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers = raw.head(time.time() + 5)
    raw.close()
    report(10, "400 for a malformed request line has nosniff",
           status == 400 and headers.get("x-content-type-options") == "nosniff",
           f"{status}, {headers.get('x-content-type-options')!r}")

    anonymous = request(main, "GET", "/metrics", src=fresh_ip())
    report(10, "/metrics without a token refused", anonymous.status in (401, 403) and
           b"xalorra_http_requests_total" not in anonymous.body, anonymous.brief())
    user = request(main, "GET", "/metrics", tok=token())
    report(10, "/metrics with a user token refused", user.status in (401, 403) and
           b"xalorra_http_requests_total" not in user.body, user.brief())
    operator = request(main, "GET", "/metrics", tok=admin())
    report(10, "control: /metrics with an admin token answers", operator.status == 200 and
           b"xalorra_http_requests_total" in operator.body, operator.brief())

    good = forge(claims(unique("jwt-")))
    control = request(main, "GET", "/whoami", tok=good)
    report(10, "control: a correctly forged token is accepted", control.status == 200, control.brief())
    head, payload, signature = good.split(".")
    base = claims(unique("jwt-"))
    cases = [
        ("a string nbf", forge(dict(base, nbf=str(int(time.time()) + 10**6)))),
        ("a string nbf in the past", forge(dict(base, nbf="0"))),
        ("an extra '=' after the signature", good + "="),
        ("'==' padding on the payload", f"{head}.{payload}==.{signature}"),
        ("whitespace inside", f"{head}.{payload}.{signature[:10]} {signature[10:]}"),
        ("an unknown crit header", forge(base, header={"alg": "HS256", "typ": "JWT", "crit": ["x-unknown"],
                                                       "x-unknown": 1})),
        ("crit naming nothing", forge(base, header={"alg": "HS256", "crit": []})),
        ("alg: none", f"{b64u(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}."),
        ("alg: None (with a signature)", forge(base, header={"alg": "None"})),
        ("alg: HS512 with the same secret", forge(base, header={"alg": "HS512"}, digest=hashlib.sha512)),
        ("a payload that is a JSON array", forge(raw_payload=b"[1,2]")),
        ("duplicate claims (user, then admin)", forge(raw_payload=(
            '{"sub":"dupe","user_id":"dupe","role":"user","role":"admin","tenant":"default","exp":%d}'
            % (time.time() + 3600)).encode())),
        ("an unknown role", forge(dict(base, role="root"))),
        ("an unknown typ", forge(dict(base, typ="id"))),
        ("exp as a string", forge(dict(base, exp=str(int(time.time()) + 3600)))),
        ("exp as a boolean", forge(dict(base, exp=True))),
        ("a 64 KiB token", forge(dict(base, pad="x" * 65536))),
    ]
    for what, forged in cases:
        response = request(main, "GET", "/whoami", tok=forged)
        expect(10, f"token with {what}", main, response, {0, 400, 401, 431} if "KiB" in what else {401})

    dupes = [("/echo {\"a\":1,\"a\":2}", "/echo", '{"a":1,"a":2}', token()),
             ("/predict duplicate \"features\"", "/predict/x", '{"features":[1],"features":[2,3]}', token()),
             ("/chat/message duplicate \"message\"", "/chat/message", '{"message":"a","message":"b"}', token()),
             ("/admin/users duplicate \"role\"", "/admin/users",
              '{"username":"dupeuser","email":"d@attack.example","nama_lengkap":"D","password":"%s",'
              '"role":"user","role":"admin"}' % PASSWORD, admin())]
    for what, path, body, dupe_tok in dupes:
        response = request(main, "POST", path, body, tok=dupe_tok)
        expect(10, f"JSON body with a duplicate key: {what}", main, response, {400, 422}, {"VALIDATION_ERROR"})
    response = request(main, "POST", "/users/login", '{"username":"%s","password":"wrong","password":"%s"}'
                       % (name, PASSWORD), src=fresh_ip())
    expect(10, "/users/login with a duplicate \"password\"", main, response, {400, 422})
    oip = token(tenant="t-uint")
    for what, datatype, value in [("UINT8 256", "UINT8", "256"), ("UINT8 -1", "UINT8", "-1"),
                                  ("UINT8 2.5", "UINT8", "2.5"), ("INT8 128", "INT8", "128"),
                                  ("INT8 -129", "INT8", "-129"), ("UINT16 65536", "UINT16", "65536"),
                                  ("INT32 2147483648", "INT32", "2147483648"), ("UINT64 -1", "UINT64", "-1"),
                                  ("INT64 1e19", "INT64", "1e19"), ("UINT32 1e300", "UINT32", "1e300")]:
        body = ('{"inputs":[{"name":"f","shape":[1,2],"datatype":"%s","data":[1,%s]}]}' % (datatype, value))
        response = request(main, "POST", "/v2/models/x/infer", body, tok=oip)
        expect(10, f"OIP data {what}", main, response, {400, 422}, {"OIP"})

    jobs_tok = token(tenant="t-jobs")
    statuses = []
    ids = []
    for _ in range(3):
        response = request(small, "POST", "/train/slow?target=y&trees=100&max_depth=16&bins=255", csv_rows(4000),
                           tok=jobs_tok, headers={"Content-Type": "text/csv"})
        statuses.append(response.brief())
        if (response.data() or {}).get("id"):
            ids.append(response.data()["id"])
    other = request(small, "POST", "/train/other?target=y&trees=5", csv_rows(40), tok=token(tenant="t-jobs"),
                    headers={"Content-Type": "text/csv"})
    for job in ids + [(other.data() or {}).get("id")]:
        if job:
            request(small, "DELETE", f"/train/jobs/{job}", tok=jobs_tok)
    refused = statuses[2].split()[0] in ("429", "409")
    report(10, "a third queued training job with XALORRA_MAX_QUEUED_JOBS=2",
           statuses[0].startswith("202") and statuses[1].startswith("202") and refused,
           f"{', '.join(statuses)}; another user meanwhile {other.brief()}")

    evil = request(small, "GET", "/", headers={"Origin": "https://evil.example"}, src=fresh_ip())
    vary = evil.header("vary") or ""
    report(10, "a non-allowed CORS origin's response has Vary: Origin and no Allow-Origin",
           "origin" in vary.lower() and evil.header("access-control-allow-origin") is None,
           f"{evil.brief()}, Vary {vary!r}, ACAO {evil.header('access-control-allow-origin')!r}")
    good_origin = request(small, "GET", "/", headers={"Origin": "https://good.example"}, src=fresh_ip())
    report(10, "control: the allowed origin gets Access-Control-Allow-Origin and Vary",
           good_origin.header("access-control-allow-origin") == "https://good.example" and
           "origin" in (good_origin.header("vary") or "").lower(),
           f"ACAO {good_origin.header('access-control-allow-origin')!r}, Vary {good_origin.header('vary')!r}")

    closed_name = unique("closed")
    response = register(small, closed_name)
    exists = request(small, "GET", f"/admin/users/{closed_name}", tok=admin())
    report(6, "register with XALORRA_REGISTRATION=closed", response.status == 403 and exists.status == 404,
           f"{response.brief()}, the account afterwards: {exists.brief()}")
    response = request(small, "POST", "/admin/users", {"username": unique("byadmin"), "email": f"{unique('a')}@x.io",
                                                       "nama_lengkap": "A", "password": PASSWORD}, tok=admin())
    report(6, "control: an admin still creates accounts with registration closed", response.status == 201,
           response.brief())


# ---------------------------------------------------------------------------------------------------------------------
# Item 4: one client must not make the server unreachable

def attack_network(main):
    ip = fresh_ip()
    statuses = []
    headers_on_404 = 0
    connection = http.client.HTTPConnection("127.0.0.1", main.port, timeout=10, source_address=(ip, 0))
    for n in range(105):
        try:
            connection.request("GET", f"/nope{n}")
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            if response.status == 404 and response.getheader("X-RateLimit-Limit"):
                headers_on_404 += 1
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            statuses.append(0)
            connection.close()
    connection.close()
    count_404, count_429 = statuses.count(404), statuses.count(429)
    report(4, "105 x GET /nopeN from one address hits the rate limit",
           count_429 > 0 and count_404 <= 100 and headers_on_404 == count_404 > 0,
           f"{count_404} x 404 ({headers_on_404} with X-RateLimit-*), {count_429} x 429, "
           f"{len(statuses) - count_404 - count_429} other")

    for what, head in [("404 for an unknown path", "POST /nope HTTP/1.1\r\nHost: x\r\n"),
                       ("401 without a token", "POST /echo HTTP/1.1\r\nHost: x\r\n"),
                       ("413 past XALORRA_MAX_BODY", f"POST /echo HTTP/1.1\r\nHost: x\r\n"
                                                     f"Authorization: Bearer {token()}\r\n")]:
        raw = Raw(main, src=fresh_ip())
        length = 2000000 if "413" in what else 1000000
        raw.send(f"{head}Content-Length: {length}\r\n\r\n".encode() + b"x" * 100)
        status, headers = raw.head(time.time() + 5)
        closed = False
        deadline = time.time() + 3
        while time.time() < deadline and not closed:
            raw.send(b"x" * 10)
            raw.buffer = b""
            closed = raw.fill(time.time() + 0.3) and raw.eof
        raw.close()
        report(4, f"early {what} with Content-Length {length} closes the connection instead of draining",
               status in (401, 404, 413) and closed,
               f"{status}, Connection {headers.get('connection')!r}, {'closed' if closed else 'still open after 3 s'}")

    ip = fresh_ip()
    sockets = []
    for _ in range(300):
        try:
            sock = socket.socket()
            sock.bind((ip, 0))
            sock.settimeout(2)
            sock.connect(("127.0.0.1", main.port))
            sock.setblocking(False)
            sockets.append(sock)
        except OSError:
            break
    time.sleep(1.5)
    closed = 0
    for sock in sockets:
        try:
            if sock.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    ok, note = health(main)
    for sock in sockets:
        sock.close()
    report(4, f"{len(sockets)} idle connections from one address: those past the per-client cap (256) closed",
           len(sockets) - closed <= 256 and closed > 0 and ok,
           f"{closed} closed by the server, {len(sockets) - closed} open; /health from another address {note}")

    slow = {}

    def slow_body():
        raw = Raw(main, src=fresh_ip())
        raw.send(f"POST /echo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token()}\r\nContent-Type: "
                 f"application/json\r\nContent-Length: 200\r\n\r\n".encode())
        started = time.time()
        sent = 0
        while time.time() - started < 30:
            if not raw.send(b" "):
                break
            sent += 1
            if raw.fill(time.time() + 2) and (raw.eof or raw.buffer):
                break
        slow["seconds"] = time.time() - started
        slow["bytes"] = sent
        slow["answer"] = raw.buffer[:12].decode(errors="replace") if raw.buffer else ""
        slow["closed"] = raw.eof or bool(raw.buffer)
        raw.close()

    slow_thread = threading.Thread(target=slow_body, daemon=True)
    slow_thread.start()

    flood_ip = fresh_ip()
    latencies = []
    stop = threading.Event()

    def probe():
        while not stop.is_set():
            latencies.append(health(main, timeout=1.0))
            time.sleep(0.3)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    flood = []
    refused_at_connect = 0
    started = time.time()
    for n in range(600):
        try:
            sock = socket.socket()
            sock.bind((flood_ip, 0))
            sock.settimeout(1)
            sock.connect(("127.0.0.1", main.port))
            sock.sendall(f"POST /nope{n} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n".encode())
            sock.setblocking(False)
            flood.append(sock)
        except OSError:
            refused_at_connect += 1
    open_socks = set(flood)
    while time.time() - started < 15:
        for sock in list(open_socks):
            try:
                while sock.recv(65536):
                    pass
                open_socks.discard(sock)
            except BlockingIOError:
                try:
                    sock.send(b"x")
                except OSError:
                    open_socks.discard(sock)
            except OSError:
                open_socks.discard(sock)
        time.sleep(1)
    stop.set()
    prober.join()
    still_open = len(open_socks)
    for sock in flood:
        sock.close()
    slow_probes = [note for ok, note in latencies if not ok]
    slowest = max((float(note.split()[0]) for ok, note in latencies if ok), default=0)
    alive, note = survives(main)
    report(4, "600 connections trickling Content-Length: 1000000 bodies for 15 s: /health answers within 1 s",
           bool(latencies) and not slow_probes and alive,
           f"{len(latencies)} probes, slowest answered {slowest:.0f} ms, {len(slow_probes)} slow or failed"
           f"{': ' + ', '.join(slow_probes[:3]) if slow_probes else ''}; {refused_at_connect} refused at connect; "
           f"{note}")
    report(4, "the flood's connections are closed, not held", still_open == 0,
           f"{still_open} of {len(flood)} still open after 15 s")
    slow_thread.join(40)
    report(4, "a body trickled at 1 byte per 2 s on POST /echo is cut off",
           slow.get("closed") and slow.get("seconds", 99) < 30,
           f"{'cut after ' if slow.get('closed') else 'still open after '}{slow.get('seconds', 0):.1f} s, "
           f"{slow.get('bytes')} bytes sent, answer {slow.get('answer')!r}")


# ---------------------------------------------------------------------------------------------------------------------

def main():
    # Started in the background by attack.sh, this process inherits SIGINT ignored: let Ctrl-C stop the run.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.time()
    main_server = Server("main")
    operator_setup(main_server.home)
    main_server.start()
    small = Server("small", env={"XALORRA_MAX_BATCH_ROWS": "50", "XALORRA_MAX_MODEL_TREES": "100",
                                 "XALORRA_MAX_MODEL_NODES": "1000", "XALORRA_MAX_QUEUED_JOBS": "2",
                                 "XALORRA_REGISTRATION": "closed"},
                   args=["--cors-origin", "https://good.example"]).start()
    try:
        attack_numbers(main_server)
        attack_token_times(main_server)
        attack_identity(main_server)
        attack_registrant(main_server)
        name = unique("acct")
        register(main_server, name)
        access, refresh = login(main_server, name)
        attack_small(main_server, small, (name, access, refresh))
        attack_rows(main_server, small)
        attack_terminal(main_server)
        attack_feeds(main_server)
        attack_memory(main_server, small)
        attack_network(main_server)
        for server in (main_server, small):
            alive, note = survives(server)
            report("*", f"the {server.name} server at the end (restarted {server.restarts} times)", alive, note)
    except KeyboardInterrupt:
        print("attack: interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        main_server.stop()
        small.stop()
    print(f"attacks: {passed} passed, {failed} failed", flush=True)
    print(f"(ran {time.time() - started:.0f} s)", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
