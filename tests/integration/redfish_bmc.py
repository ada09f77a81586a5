#!/usr/bin/env python3
# tests/integration/redfish_bmc.py — a BMC's Redfish service for the
# redfish power test (tests/integration/power_redfish.sh): HTTPS with the
# given certificate, Basic authentication, a service root, the Systems
# collection and one ComputerSystem with PowerState, its Reset action and
# its Boot override, each with @Redfish.AllowableValues, and an
# @odata.etag (also the ETag header) that changes with every change.
#
# Every request is checked as a Redfish service checks it against the
# DMTF schema: Basic authentication, Content-Type application/json on a
# body, a JSON object of known properties only, a ResetType among the
# allowed values, Boot property names and values of the schema, If-Match
# on a PATCH (428 without, 412 when stale). Each request is written to
# LOG as one JSON line {"method", "path", "status", "why", "body"}; the
# simulated system is written to STATE after every change.
#
# redfish_bmc.py ADDR PORT CERT KEY LOG STATE [--resets A,B] [--boots A,B]
import argparse
import base64
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SYS = "/redfish/v1/Systems/1"
RESET = SYS + "/Actions/ComputerSystem.Reset"
# ComputerSystem.v1_20: the ResetType enum and the Boot override's enums.
RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "GracefulRestart",
               "ForceRestart", "Nmi", "ForceOn", "PushPowerButton",
               "PowerCycle", "Suspend", "Pause", "Resume"]
BOOT_TARGETS = ["None", "Pxe", "Floppy", "Cd", "Usb", "Hdd", "BiosSetup",
                "Utilities", "Diags", "UefiShell", "UefiTarget", "SDCard",
                "UefiHttp", "RemoteDrive", "UefiBootNext", "Recovery"]
BOOT_ENABLED = ["Disabled", "Once", "Continuous"]
BOOT_WRITABLE = ["BootSourceOverrideTarget", "BootSourceOverrideEnabled",
                 "BootSourceOverrideMode", "UefiTargetBootSourceOverride",
                 "BootNext", "BootOrder", "AutomaticRetryConfig"]

ap = argparse.ArgumentParser()
ap.add_argument("addr")
ap.add_argument("port", type=int)
ap.add_argument("cert")
ap.add_argument("key")
ap.add_argument("log")
ap.add_argument("state")
ap.add_argument("--user", default="admin")
ap.add_argument("--password", default="s3cret-pw")
ap.add_argument("--resets", default="On,ForceOff,GracefulShutdown,"
                "GracefulRestart,ForceRestart,Nmi,PushPowerButton")
ap.add_argument("--boots", default="None,Pxe,Cd,Hdd,Usb,BiosSetup")
# The ETag in the ETag header only, as some BMCs give it.
ap.add_argument("--no-odata-etag", action="store_true")
args = ap.parse_args()

lock = threading.Lock()
state = {"PowerState": "Off", "etag": 1, "resets": [], "cycles": 0,
         "Boot": {"BootSourceOverrideTarget": "None",
                  "BootSourceOverrideEnabled": "Disabled",
                  "BootSourceOverrideMode": "UEFI"}}
allowed_resets = args.resets.split(",")
allowed_boots = args.boots.split(",")


def save():
    with open(args.state + ".tmp", "w") as f:
        json.dump(state, f)
    import os
    os.replace(args.state + ".tmp", args.state)


def etag():
    return 'W/"%d"' % state["etag"]


def system():
    s = {
        "@odata.type": "#ComputerSystem.v1_20_0.ComputerSystem",
        "@odata.id": SYS, "@odata.etag": etag(), "Id": "1",
        "Name": "test server", "SystemType": "Physical",
        "PowerState": state["PowerState"],
        "Status": {"State": "Enabled", "Health": "OK"},
        "Boot": dict(state["Boot"], **{
            "BootSourceOverrideTarget@Redfish.AllowableValues":
                allowed_boots}),
        "Actions": {"#ComputerSystem.Reset": {
            "target": RESET,
            "ResetType@Redfish.AllowableValues": allowed_resets}},
    }
    if args.no_odata_etag:
        del s["@odata.etag"]
    return s


def error(msg_id, msg):
    return {"error": {"code": "Base.1.16." + msg_id, "message": msg,
                      "@Message.ExtendedInfo": [{
                          "@odata.type": "#Message.v1_1_1.Message",
                          "MessageId": "Base.1.16." + msg_id,
                          "Message": msg}]}}


class Bmc(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body=None, why=""):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("OData-Version", "4.0")
        if body is not None:
            self.send_header("Content-Type",
                             "application/json; charset=utf-8")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="Redfish"')
        if self.path.rstrip("/") == SYS and status < 300:
            self.send_header("ETag", etag())
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with open(args.log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "status": status, "why": why,
                                "body": self.req_body}) + "\n")

    def authed(self):
        h = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (args.user, args.password)).encode()).decode()
        return h == want

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0") or "0")
        raw = self.rfile.read(n) if n > 0 else b""
        self.req_body = raw.decode(errors="replace")
        return raw

    def json_body(self, raw):
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            self.reply(415, error("UnsupportedMediaType",
                       "Content-Type must be application/json"),
                       "content-type %r" % ctype)
            return None
        try:
            body = json.loads(raw)
        except ValueError:
            self.reply(400, error("MalformedJSON", "not JSON"), "json")
            return None
        if not isinstance(body, dict):
            self.reply(400, error("MalformedJSON", "not an object"),
                       "not an object")
            return None
        return body

    def do_GET(self):
        self.read_body()
        p = self.path.rstrip("/")
        if p == "/redfish/v1":
            return self.reply(200, {
                "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
                "@odata.id": "/redfish/v1", "Id": "RootService",
                "RedfishVersion": "1.17.0",
                "Systems": {"@odata.id": "/redfish/v1/Systems"}})
        if not self.authed():
            return self.reply(401, error("InsufficientPrivilege",
                              "authentication required"), "auth")
        with lock:
            if p == "/redfish/v1/Systems":
                return self.reply(200, {
                    "@odata.type":
                        "#ComputerSystemCollection.ComputerSystemCollection",
                    "@odata.id": "/redfish/v1/Systems",
                    "Name": "Computer System Collection",
                    "Members@odata.count": 1,
                    "Members": [{"@odata.id": SYS}]})
            if p == SYS:
                return self.reply(200, system())
        self.reply(404, error("ResourceMissingAtURI", "no such resource"),
                   "404")

    def do_POST(self):
        raw = self.read_body()
        if not self.authed():
            return self.reply(401, error("InsufficientPrivilege",
                              "authentication required"), "auth")
        if self.path != RESET:
            return self.reply(405 if self.path.startswith(SYS) else 404,
                              error("OperationNotAllowed", "no action"),
                              "post to " + self.path)
        body = self.json_body(raw)
        if body is None:
            return
        extra = set(body) - {"ResetType"}
        if extra:
            return self.reply(400, error("ActionParameterUnknown",
                              "unknown %s" % sorted(extra)), "extra")
        rt = body.get("ResetType")
        if rt not in RESET_TYPES:
            return self.reply(400, error("ActionParameterValueNotInList",
                              "ResetType %r" % rt), "resettype schema")
        if rt not in allowed_resets:
            return self.reply(400, error("ActionParameterValueNotInList",
                              "ResetType %r not allowed" % rt),
                              "resettype not allowed")
        with lock:
            state["resets"].append(rt)
            if rt in ("On", "ForceOn", "PushPowerButton"):
                state["PowerState"] = "On"
            elif rt in ("ForceOff", "GracefulShutdown"):
                state["PowerState"] = "Off"
            elif rt in ("ForceRestart", "GracefulRestart", "PowerCycle"):
                state["cycles"] += 1
                state["PowerState"] = "On"
            state["etag"] += 1
            save()
        self.reply(204)

    def do_PATCH(self):
        raw = self.read_body()
        if not self.authed():
            return self.reply(401, error("InsufficientPrivilege",
                              "authentication required"), "auth")
        if self.path != SYS:
            return self.reply(405, error("OperationNotAllowed", "no"),
                              "patch " + self.path)
        body = self.json_body(raw)
        if body is None:
            return
        with lock:
            im = self.headers.get("If-Match")
            if im is None:
                return self.reply(428, error("PreconditionRequired",
                                  "If-Match required"), "no if-match")
            if im != etag() and im != "*":
                return self.reply(412, error("PreconditionFailed",
                                  "stale ETag"), "stale if-match")
            if set(body) != {"Boot"} or not isinstance(body["Boot"], dict):
                return self.reply(400, error("PropertyUnknown",
                                  "only Boot here"), "not Boot")
            b = body["Boot"]
            for k, v in b.items():
                if k not in BOOT_WRITABLE:
                    return self.reply(400, error("PropertyUnknown", k),
                                      "boot property " + k)
            t = b.get("BootSourceOverrideTarget")
            if t is not None and (t not in BOOT_TARGETS or
                                  t not in allowed_boots):
                return self.reply(400, error("PropertyValueNotInList",
                                  "target %r" % t), "boot target")
            e = b.get("BootSourceOverrideEnabled")
            if e is not None and e not in BOOT_ENABLED:
                return self.reply(400, error("PropertyValueNotInList",
                                  "enabled %r" % e), "boot enabled")
            state["Boot"].update(b)
            state["etag"] += 1
            save()
        self.reply(204)


srv = ThreadingHTTPServer((args.addr, args.port), Bmc)
srv.daemon_threads = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(args.cert, args.key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
save()
print("ready", flush=True)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
