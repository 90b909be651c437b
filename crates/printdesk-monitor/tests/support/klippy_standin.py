"""A stand-in for Klippy's API socket, for running the real Moonraker in tests.

Klippy speaks JSON objects terminated by 0x03 on a Unix socket (Klipper's
docs/API_Server.md). Moonraker asks `info`, `list_endpoints`, `objects/list`,
`objects/query`, `objects/subscribe`, `gcode/subscribe_output`,
`register_remote_method` and `gcode/script` (shared/printer-protocols.md §7.2;
moonraker/components/klippy_connection.py, klippy_apis.py and job_state.py).

The stand-in simulates one printer with a virtual SD card: `SDCARD_PRINT_FILE
FILENAME=…` (what `printer.print.start` sends) starts a print that progresses for
`--print-seconds` and completes; `pause_resume/cancel` (what `printer.print.cancel`
sends) cancels it; `RESTART` (what `printer.restart` sends) closes the socket and comes
back `ready` a second later, as a restarting Klippy does; `emergency_stop` (or `M112`)
shuts Klippy down until the next restart. Every change of a subscribed object is pushed as
`process_status_update`, carrying only the changed fields, as Klippy does.

Usage: python3 klippy_standin.py SOCKET GCODES_DIR [--print-seconds S]
"""

import argparse
import asyncio
import json
import os
import re
import time

STEP_S = 0.25


class Printer:
    def __init__(self, gcodes: str, print_seconds: float) -> None:
        self.print_seconds = print_seconds
        self.objects = {
            "webhooks": {"state": "ready", "state_message": "Printer is ready"},
            "print_stats": {
                "filename": "",
                "total_duration": 0.0,
                "print_duration": 0.0,
                "filament_used": 0.0,
                "state": "standby",
                "message": "",
                "info": {"total_layer": None, "current_layer": None},
            },
            "virtual_sdcard": {
                "file_path": None,
                "progress": 0.0,
                "is_active": False,
                "file_position": 0,
                "file_size": 0,
            },
            "pause_resume": {"is_paused": False},
            "display_status": {"progress": 0.0, "message": None},
            "configfile": {"config": {"virtual_sdcard": {"path": gcodes}}},
            "heaters": {"available_heaters": [], "available_sensors": []},
            "toolhead": {"homed_axes": "", "position": [0.0, 0.0, 0.0, 0.0]},
        }
        # The union of Moonraker's subscriptions: each subscribe replaces it.
        self.subscribed: dict = {}
        self.clients: list = []
        self.job: asyncio.Task | None = None

    def status(self, wanted: dict) -> dict:
        out = {}
        for name, fields in wanted.items():
            obj = self.objects.get(name)
            if obj is None:
                continue
            out[name] = dict(obj) if fields is None else {
                k: v for k, v in obj.items() if k in fields
            }
        return out

    def change(self, name: str, **fields) -> None:
        """Sets fields of an object and pushes those that changed to subscribers."""
        obj = self.objects[name]
        changed = {k: v for k, v in fields.items() if obj.get(k) != v}
        obj.update(changed)
        if not changed or name not in self.subscribed:
            return
        wanted = self.subscribed[name]
        if wanted is not None:
            changed = {k: v for k, v in changed.items() if k in wanted}
        if changed:
            self.push(
                {
                    "method": "process_status_update",
                    "params": {"eventtime": time.monotonic(), "status": {name: changed}},
                }
            )

    def push(self, message: dict) -> None:
        data = json.dumps(message).encode() + b"\x03"
        for writer in self.clients:
            writer.write(data)

    def start(self, filename: str) -> None:
        if self.objects["print_stats"]["state"] in ("printing", "paused"):
            raise ValueError("Print is already in progress")
        self.change(
            "print_stats",
            filename=filename,
            state="printing",
            total_duration=0.0,
            print_duration=0.0,
            message="",
        )
        self.change("virtual_sdcard", file_path=filename, progress=0.0, is_active=True)
        self.job = asyncio.get_running_loop().create_task(self.run())

    async def run(self) -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(STEP_S)
            elapsed = time.monotonic() - started
            progress = min(1.0, elapsed / self.print_seconds)
            self.change(
                "print_stats",
                total_duration=round(elapsed, 2),
                print_duration=round(elapsed, 2),
            )
            self.change("virtual_sdcard", progress=round(progress, 3))
            if progress >= 1.0:
                self.change("virtual_sdcard", is_active=False)
                self.change("print_stats", state="complete")
                self.job = None
                return

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None
        if self.objects["print_stats"]["state"] in ("printing", "paused"):
            self.change("virtual_sdcard", is_active=False)
            self.change("print_stats", state="cancelled")

    def gcode(self, script: str) -> None:
        for line in script.splitlines():
            match = re.match(r'\s*SDCARD_PRINT_FILE\s+FILENAME="?([^"]+)"?', line, re.I)
            if match:
                self.start(match.group(1).lstrip("/"))
            elif line.strip().upper() == "CANCEL_PRINT":
                self.cancel()
            elif line.strip().upper() == "M112":
                self.shutdown()
            elif line.strip().upper() in ("RESTART", "FIRMWARE_RESTART"):
                # After the reply, as Klippy does.
                asyncio.get_running_loop().create_task(self.restart())

    def shutdown(self) -> None:
        """An emergency stop: Klippy shuts down (webhooks first, as Klippy announces it) and
        the print, if any, ends in error; only a restart brings it back."""
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self.change("webhooks", state="shutdown", state_message="Shutdown due to M112")
        if self.objects["print_stats"]["state"] in ("printing", "paused"):
            self.change("virtual_sdcard", is_active=False)
            self.change("print_stats", state="error", message="Shutdown due to M112")

    async def restart(self) -> None:
        """Klippy restarting: its API socket closes, and it comes back in `startup`, then
        `ready`, with nothing printing."""
        await asyncio.sleep(0.1)
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self.objects["print_stats"].update(
            state="standby", filename="", total_duration=0.0, print_duration=0.0
        )
        self.objects["virtual_sdcard"].update(progress=0.0, is_active=False, file_path=None)
        self.objects["webhooks"].update(state="startup", state_message="Printer is restarting")
        self.subscribed = {}
        for writer in list(self.clients):
            writer.close()
        await asyncio.sleep(1.0)
        self.objects["webhooks"].update(state="ready", state_message="Printer is ready")

    def handle(self, method: str, params: dict):
        """The result of one request (raises ValueError for an error reply)."""
        if method == "info":
            return {
                "state": self.objects["webhooks"]["state"],
                "state_message": self.objects["webhooks"]["state_message"],
                "hostname": "standin",
                "klipper_path": "/nonexistent/klipper",
                "python_path": "/usr/bin/python3",
                "process_id": os.getpid(),
                "user_id": os.getuid(),
                "group_id": os.getgid(),
                "software_version": "v0.12.0-standin",
                "cpu_info": "",
                "config_file": "/nonexistent/printer.cfg",
                "log_file": "/nonexistent/klippy.log",
            }
        if method == "list_endpoints":
            return {
                "endpoints": [
                    "info", "list_endpoints", "objects/list", "objects/query",
                    "objects/subscribe", "gcode/script", "gcode/help",
                    "gcode/subscribe_output", "pause_resume/pause",
                    "pause_resume/resume", "pause_resume/cancel",
                    "register_remote_method", "emergency_stop",
                ]
            }
        if method == "objects/list":
            return {"objects": list(self.objects)}
        if method == "objects/query":
            return {"eventtime": time.monotonic(), "status": self.status(params["objects"])}
        if method == "objects/subscribe":
            self.subscribed = dict(params.get("objects", {}))
            return {"eventtime": time.monotonic(), "status": self.status(self.subscribed)}
        if method == "gcode/script":
            self.gcode(params.get("script", ""))
            return {}
        if method == "emergency_stop":
            self.shutdown()
            return {}
        if method == "pause_resume/cancel":
            self.cancel()
            return {}
        if method == "gcode/help":
            return {"SDCARD_PRINT_FILE": "Start a print", "CANCEL_PRINT": "Cancel"}
        # gcode/subscribe_output, register_remote_method, pause/resume, …: accepted.
        return {}


async def serve(printer: Printer, reader: asyncio.StreamReader, writer) -> None:
    printer.clients.append(writer)
    try:
        while True:
            try:
                data = await reader.readuntil(b"\x03")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            request = json.loads(data[:-1])
            # A log of the conversation, for a failing test's output.
            print("request", json.dumps(request), flush=True)
            reply = {"id": request.get("id")}
            try:
                reply["result"] = printer.handle(request["method"], request.get("params", {}))
            except (ValueError, KeyError) as e:
                reply["error"] = {"error": "WebRequestError", "message": str(e)}
            writer.write(json.dumps(reply).encode() + b"\x03")
            await writer.drain()
    finally:
        printer.clients.remove(writer)
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("gcodes")
    parser.add_argument("--print-seconds", type=float, default=3.0)
    args = parser.parse_args()
    printer = Printer(args.gcodes, args.print_seconds)
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    server = await asyncio.start_unix_server(
        lambda r, w: serve(printer, r, w), path=args.socket
    )
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
