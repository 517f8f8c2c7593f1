#!/usr/bin/env python3
"""Schema conformance: runs a scripted JetStream session against a server and validates every
JSON answer and advisory it sends against the jsm.go JSON schemas (read from ../shared/schemas,
never copied here).

Usage: schemas.py <server binary> <schemas dir>

Answers are matched to the schema their `type` names (io.nats.jetstream.api.v1.X ->
jetstream/api/v1/X.json, io.nats.jetstream.advisory.v1.X -> jetstream/advisory/v1/X.json);
PubAcks carry no type and are checked against pub_ack_response.json.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

import jsonschema

STEP_TIMEOUT_SECONDS = 5.0


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Connection:
    """A minimal NATS client: PUB/HPUB out, MSG/HMSG in, PINGs answered."""

    def __init__(self, port, user=None):
        deadline = time.monotonic() + 10
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(STEP_TIMEOUT_SECONDS)
        self.buffer = b""
        self.read_line()  # INFO
        connect = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True}
        if user:
            connect.update(user=user, **{"pass": user})
        self.send(b"CONNECT " + json.dumps(connect).encode() + b"\r\n")

    def send(self, data):
        self.sock.sendall(data)

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise RuntimeError("server closed the connection")
        self.buffer += chunk

    def read_line(self):
        while b"\r\n" not in self.buffer:
            self.fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode()

    def read_bytes(self, count):
        while len(self.buffer) < count + 2:
            self.fill()
        data, self.buffer = self.buffer[:count], self.buffer[count + 2:]
        return data

    def next_message(self):
        """The next (subject, headers, payload); PONG returns None."""
        while True:
            line = self.read_line()
            if line == "PING":
                self.send(b"PONG\r\n")
                continue
            if line == "PONG":
                return None
            if line.startswith("-ERR"):
                raise RuntimeError(line)
            parts = line.split()
            if parts[0] == "MSG":
                data = self.read_bytes(int(parts[-1]))
                return parts[1], b"", data
            if parts[0] == "HMSG":
                header_bytes, total = int(parts[-2]), int(parts[-1])
                data = self.read_bytes(total)
                return parts[1], data[:header_bytes], data[header_bytes:]

    def publish(self, subject, reply, body, headers=None):
        body = body.encode() if isinstance(body, str) else body
        if headers:
            block = "NATS/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
            block = block.encode()
            head = f"HPUB {subject} {reply} {len(block)} {len(block) + len(body)}\r\n"
            self.send(head.encode() + block + body + b"\r\n")
        else:
            self.send(f"PUB {subject} {reply} {len(body)}\r\n".encode() + body + b"\r\n")


# The session: (subject, headers, body). Requests go to $JS.API unless the subject is a
# stream subject (publishes). Every answer and advisory is collected.
SESSION = [
    ("$JS.API.INFO", None, ""),
    ("$JS.API.STREAM.CREATE.S", None, json.dumps({
        "name": "S", "subjects": ["s.>"], "allow_direct": True, "allow_rollup_hdrs": True,
        "max_msgs_per_subject": 10, "duplicate_window": 60_000_000_000, "description": "d"})),
    ("$JS.API.STREAM.CREATE.S", None, json.dumps({"name": "S", "subjects": ["other"]})),
    ("$JS.API.STREAM.UPDATE.S", None, json.dumps({
        "name": "S", "subjects": ["s.>"], "allow_direct": True, "allow_rollup_hdrs": True,
        "max_msgs_per_subject": 20, "duplicate_window": 60_000_000_000})),
    ("$JS.API.STREAM.UPDATE.S", None, json.dumps({"name": "S", "storage": "memory"})),
    ("s.a", [("Nats-Msg-Id", "1")], "one"),
    ("s.a", [("Nats-Msg-Id", "1")], "one again"),
    ("s.b", None, "two"),
    ("s.c", None, "three"),
    ("s.b", [("Nats-Expected-Last-Sequence", "1")], "refused"),
    ("s.a", [("Nats-Rollup", "bogus")], "refused"),
    ("$JS.API.STREAM.INFO.S", None, json.dumps({"subjects_filter": ">", "deleted_details": True})),
    ("$JS.API.STREAM.INFO.NONE", None, ""),
    ("$JS.API.STREAM.NAMES", None, ""),
    ("$JS.API.STREAM.NAMES", None, json.dumps({"subject": "zzz"})),
    ("$JS.API.STREAM.LIST", None, ""),
    ("$JS.API.STREAM.MSG.GET.S", None, json.dumps({"seq": 1})),
    ("$JS.API.STREAM.MSG.GET.S", None, json.dumps({"last_by_subj": "s.b"})),
    ("$JS.API.STREAM.MSG.GET.S", None, json.dumps({"seq": 99})),
    ("$JS.API.STREAM.MSG.DELETE.S", None, json.dumps({"seq": 2})),
    ("$JS.API.STREAM.MSG.DELETE.S", None, json.dumps({"seq": 2, "no_erase": True})),
    ("$JS.API.CONSUMER.DURABLE.CREATE.S.D", None, json.dumps({
        "stream_name": "S", "config": {"durable_name": "D", "ack_policy": "explicit",
                                       "filter_subject": "s.>"}})),
    ("$JS.API.CONSUMER.CREATE.S", None, json.dumps({
        "stream_name": "S", "config": {"ack_policy": "none", "deliver_subject": "push.here"}})),
    ("$JS.API.CONSUMER.DURABLE.CREATE.S.BAD", None, json.dumps({
        "stream_name": "S", "config": {"durable_name": "OTHER"}})),
    ("$JS.API.CONSUMER.INFO.S.D", None, ""),
    ("$JS.API.CONSUMER.INFO.S.NONE", None, ""),
    ("$JS.API.CONSUMER.NAMES.S", None, ""),
    ("$JS.API.CONSUMER.LIST.S", None, ""),
    ("$JS.API.CONSUMER.DELETE.S.D", None, ""),
    # Nobody listens on the deliver subject: the transfer ends after its 2 s wait.
    ("$JS.API.STREAM.SNAPSHOT.S", None, json.dumps({"deliver_subject": "_S.snap"})),
    ("$JS.API.STREAM.SNAPSHOT.S", None, json.dumps({"deliver_subject": ""})),
    ("$JS.API.STREAM.RESTORE.S", None, json.dumps({"config": {"name": "S"}, "state": {}})),
    ("$JS.API.STREAM.RESTORE.R", None, json.dumps({
        "config": {"name": "R", "subjects": ["r"]}, "state": {}})),
    ("$JS.API.STREAM.PURGE.S", None, json.dumps({"filter": "s.a", "keep": 1})),
    ("$JS.API.STREAM.PURGE.S", None, ""),
    ("$JS.API.STREAM.CREATE.BAD", None, "{"),
    ("$JS.API.STREAM.CREATE.A", None, json.dumps({"name": "A", "subjects": ["s.x"]})),
    ("$JS.API.STREAM.DELETE.S", None, ""),
    ("$JS.API.STREAM.DELETE.S", None, ""),
    ("$JS.API.INFO", None, ""),
]


def schema_for(body, schemas, is_pub_ack):
    kind = body.get("type") if isinstance(body, dict) else None
    if kind is None:
        return "jetstream/api/v1/pub_ack_response.json" if is_pub_ack else None
    for prefix, folder in (("io.nats.jetstream.api.v1.", "jetstream/api/v1/"),
                           ("io.nats.jetstream.advisory.v1.", "jetstream/advisory/v1/"),
                           ("io.nats.server.advisory.v1.", "server/advisory/v1/"),
                           ("io.nats.server.metric.v1.", "server/metric/v1/")):
        if kind.startswith(prefix):
            path = folder + kind[len(prefix):] + ".json"
            return path if os.path.exists(os.path.join(schemas, path)) else None
    return None


def main():
    server, schemas = sys.argv[1], sys.argv[2]
    port = free_port()
    with tempfile.TemporaryDirectory() as store:
        process = subprocess.Popen(
            [server, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", store],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            collected = run_session(port)
        finally:
            process.kill()
            process.wait()
    collected += run_system_session(server)
    failures = validate(collected, schemas)
    print(f"schemas: {len(collected)} JSON messages, {len(failures)} failing")
    for failure in failures:
        print(failure)
    return 1 if failures else 0


def run_session(port):
    """Every JSON message the server sent: (what, body, is_pub_ack)."""
    connection = Connection(port)
    connection.send(b"SUB $JS.EVENT.> 1\r\nSUB _R.> 2\r\nPING\r\n")
    while connection.next_message() is not None:
        pass
    collected = []

    def keep(subject, payload, is_pub_ack, what):
        try:
            collected.append((what, json.loads(payload), is_pub_ack))
        except ValueError:
            collected.append((what, {"not JSON": payload.decode(errors="replace")}, is_pub_ack))

    for index, (subject, headers, body) in enumerate(SESSION):
        reply = f"_R.{index}"
        connection.publish(subject, reply, body, headers)
        what = f"{subject} {body[:60]}"
        while True:
            try:
                message = connection.next_message()
            except TimeoutError:
                # Some requests go unanswered on purpose (nats-server 2.9 drops a message
                # with an unknown rollup); nothing to validate then.
                print(f"schemas: no answer to {what}")
                break
            if message is None:
                continue
            got_subject, _, payload = message
            if got_subject == reply:
                keep(got_subject, payload, not subject.startswith("$JS."), what)
                break
            keep(got_subject, payload, False, f"advisory on {got_subject}")
    # Advisories of the last requests may still be on their way: read until a PONG after a
    # quiet moment.
    time.sleep(0.3)
    connection.send(b"PING\r\n")
    while (message := connection.next_message()) is not None:
        keep(message[0], message[2], False, f"advisory on {message[0]}")
    return collected


SYSTEM_CONFIG = """
accounts {
  SYS { users: [ { user: sys, password: sys } ] }
  A { users: [ { user: a, password: a } ] }
}
system_account: SYS
"""


def run_system_session(server):
    """The system account's events of a client of account A coming and going."""
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        config = os.path.join(scratch, "system.conf")
        with open(config, "w") as file:
            file.write(SYSTEM_CONFIG)
        process = subprocess.Popen(
            [server, "-a", "127.0.0.1", "-p", str(port), "-c", config],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            system = Connection(port, user="sys")
            system.send(b"SUB $SYS.ACCOUNT.A.> 1\r\nPING\r\n")
            while system.next_message() is not None:
                pass
            client = Connection(port, user="a")
            client.send(b"PING\r\n")
            while client.next_message() is not None:
                pass
            client.sock.close()
            collected = []
            # CONNECT, the account's connection count, DISCONNECT and the count again.
            while len(collected) < 4:
                try:
                    message = system.next_message()
                except TimeoutError:
                    print(f"schemas: {len(collected)} of 4 system events arrived")
                    break
                if message is not None:
                    collected.append((f"event on {message[0]}", json.loads(message[2]), False))
            return collected
        finally:
            process.kill()
            process.wait()


def validate(collected, schemas):
    failures = []
    checked_types = set()
    for what, body, is_pub_ack in collected:
        path = schema_for(body, schemas, is_pub_ack)
        if path is None:
            failures.append(f"- {what}: no schema for {json.dumps(body)[:200]}")
            continue
        with open(os.path.join(schemas, path)) as file:
            schema = json.load(file)
        checked_types.add(path)
        validator = jsonschema.Draft7Validator(schema)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            best = jsonschema.exceptions.best_match(errors)
            location = "/".join(str(p) for p in best.absolute_path)
            failures.append(f"- {what} ({path}) at /{location}: {best.message[:300]}")
    print("schemas checked:", ", ".join(sorted(checked_types)))
    return failures


if __name__ == "__main__":
    sys.exit(main())
