"""Storage benchmark: the same upload processed with local files and with an S3 bucket.

Run:  .venv/bin/python bench/bench_storage.py [--minutes 1,10]

For each length, a speech-like mono MP3 (``bench_media.make_speech``) is stored with
``asset_create`` and processed with ``asset_process`` (every audio profile and the
waveform), each storage in its own process with its own throw-away SQLite database:

* local — ``FileSystemStorage`` under a temporary folder (the default of ``make run``);
* s3 — ``storages.backends.s3.S3Storage`` on moto's S3 server (``ThreadedMotoServer``,
  started here on 127.0.0.1): the source is fetched from the bucket into the work folder and
  every rendition is uploaded back.

Columns: the wall time of ``asset_create`` (validation + storing the upload), of
``asset_process`` (fetch, measure, transcode, verify, publish), the process's CPU seconds
(ffmpeg included) during ``asset_process``, and the bytes the bucket holds afterwards.
moto keeps objects in memory in this process: the figures show the cost of going through
the storage API, not a real store's network (docs/deploy.md says what moto does not prove).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BUCKET = "nguon-bench"
KEYS = {"S3_ACCESS_KEY_ID": "bench", "S3_SECRET_ACCESS_KEY": "bench-secret"}


def phase(source: Path, var: Path) -> dict:
    """Inside a child: store and process ``source`` with the storage named by the env."""
    os.environ["NGUON_VAR_DIR"] = str(var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"  # asset_process is run and timed here
    import django

    django.setup()
    from bench_media import cpu_seconds
    from django.core.files import File
    from django.core.files.storage import default_storage
    from django.core.management import call_command

    from media.processing import asset_process
    from media.services import asset_create

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with open(source, "rb") as fh:
        asset = asset_create(upload=File(fh, name=source.name), kind="audio")
    stored = time.perf_counter() - started
    cpu0, started = cpu_seconds(), time.perf_counter()
    asset = asset_process(asset_id=asset.pk)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu0
    names = [asset.file.name] + [r.file.name for r in asset.renditions.all() if r.file]
    return {
        "backend": default_storage.__class__.__name__,  # the wrapped class
        "store": stored,
        "process": wall,
        "cpu": cpu,
        "status": asset.status,
        "error": asset.error,
        "bytes": sum(default_storage.size(n) for n in names),
        "files": len(names),
    }


def child(source: Path, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="nguon-bench-storage-") as var:
        proc = subprocess.run(
            [sys.executable, __file__, "--phase", "--source", str(source), "--var", var],
            cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
        )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"phase failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", default="1,10")
    parser.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--var", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(Path(args.source), Path(args.var))))
        return

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    began = (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), os.getloadavg())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=KEYS["S3_ACCESS_KEY_ID"],
                          aws_secret_access_key=KEYS["S3_SECRET_ACCESS_KEY"])  # fmt: skip
    client.create_bucket(Bucket=BUCKET)
    s3_env = {"STORAGE_BACKEND": "storages.backends.s3.S3Storage", "S3_BUCKET": BUCKET,
              "S3_ENDPOINT_URL": endpoint, "S3_REGION": "us-east-1",
              "S3_ADDRESSING_STYLE": "path", **KEYS}  # fmt: skip
    local_env = {"STORAGE_BACKEND": "django.core.files.storage.FileSystemStorage"}

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    import django

    django.setup()
    from bench_media import make_speech

    rows = []
    with tempfile.TemporaryDirectory(prefix="nguon-bench-sources-") as tmp:
        for minutes in [float(m) for m in args.minutes.split(",")]:
            source = make_speech(Path(tmp) / f"speech-{minutes:g}min.mp3", minutes)
            for name, env in (("local", local_env), ("s3 (moto)", s3_env)):
                result = child(source, env)
                rows.append((minutes, name, result))
                print(f"{minutes:g} min, {name}: {result}", file=sys.stderr, flush=True)
    server.stop()

    print("| source | storage | store upload (s) | process (s) | CPU s | status | files | bytes |")
    print("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for minutes, name, r in rows:
        print(f"| {minutes:g} min speech MP3 | {name} ({r['backend']}) | {r['store']:.2f} | "
              f"{r['process']:.1f} | {r['cpu']:.1f} | {r['status']} | {r['files']} | "
              f"{r['bytes']:,} |")  # fmt: skip
    ended = (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), os.getloadavg())
    print(f"\nstarted {began[0]} UTC (load {began[1][0]:.2f}), "
          f"ended {ended[0]} UTC (load {ended[1][0]:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
