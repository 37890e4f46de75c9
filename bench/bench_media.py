"""Media benchmark: all audio profiles from speech-like sources, against the bare ffmpeg
commands and against the naive approach; then 1080p video to the video profiles.

Run:  .venv/bin/python bench/bench_media.py [--minutes 10,60] [--video-seconds 300]
      [--skip-naive] [--skip-video]

For each audio length it measures, each in its own process (peak memory is the largest
single process of that run: Python or one ffmpeg, from wait4's ru_maxrss; CPU seconds are
user + system time of the timed part, ffmpeg children included):

* pipeline — ``media.processing.asset_process``: one measuring decode (one graph per
  pre-gain chain, one for the waveform envelope, one holding every ebur128), one decode for
  every audio profile (one graph per branch: pre-filters → gain → limiter → its encoder), a
  re-measure of every output (all at once), and a corrective pass only for a branch whose
  limiter cost more than 0.5 LU; database writes and atomic renames included;
* bare — the very ffmpeg commands the pipeline ran (recorded by ``media.ffmpeg``), replayed
  with the same concurrency and nothing else; each step's wall time is reported;
* naive — per profile, a two-pass ``loudnorm`` (analysis pass, then a linear normalising
  encode pass), one profile after the other, plus a separate waveform pass. It makes the
  same product: each profile's down-mix, pre-filters (the loudspeaker's band-pass,
  ``dynaudnorm`` and compressor) and dynamics, encoder arguments, channels and rate are read
  from ``media.profiles`` through the pipeline's own ``measure_chain``/``out_channels``
  (``naive_recipe``), so the two cannot drift apart; only the normalisation differs.

Outputs must land within ±0.5 LU of their targets (pipeline, measured by its own ebur128
re-measure). Uses a throw-away SQLite database and media folder under a temporary folder.
The last lines give the UTC time and the load average at start and end.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(var: Path) -> None:
    os.environ["NGUON_VAR_DIR"] = str(var)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"  # asset_process is run and timed here
    import django

    django.setup()


def cpu_seconds() -> float:
    """User + system CPU of this process and of every child it has waited for (ffmpeg)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def ffmpeg() -> str:
    from media.ffmpeg import ffmpeg_binary

    return ffmpeg_binary()


# --- sources ---------------------------------------------------------------------------------


def make_speech(path: Path, minutes: float) -> Path:
    """Speech-like mono MP3: band-limited pink noise with a syllable envelope (~3.5 Hz) and
    phrase pauses, at a quiet phone recorder's level (measured: -33 LUFS, -17.5 dBTP)."""
    seconds = int(minutes * 60)
    subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
         f"anoisesrc=color=pink:d={seconds}:a=0.25:seed=11,highpass=f=120,lowpass=f=5000,"
         "volume='(0.08+0.92*abs(sin(2*PI*3.5*t)))*gt(sin(2*PI*0.21*t)\\,-0.7)':eval=frame",
         "-ac", "1", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "96k", str(path)],
        check=True,
    )  # fmt: skip
    return path


def make_video(path: Path, seconds: int) -> Path:
    subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
         "-f", "lavfi", "-i", f"testsrc2=d={seconds}:s=1920x1080:r=25",
         "-f", "lavfi", "-i", f"anoisesrc=color=pink:d={seconds}:a=0.1,lowpass=f=5000",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "23", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ac", "2", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


# --- phases (each runs in its own process) ----------------------------------------------------


def phase_pipeline(source: Path, var: Path, kind: str, log_path: Path) -> dict:
    setup_django(var)
    from django.core.files import File
    from django.core.management import call_command

    from media import ffmpeg as ff
    from media.processing import asset_process
    from media.services import asset_create

    call_command("migrate", verbosity=0)
    with open(source, "rb") as fh:
        asset = asset_create(upload=File(fh, name=source.name), kind=kind)
    ff.command_log = []
    cpu0, started = cpu_seconds(), time.perf_counter()
    asset = asset_process(asset_id=asset.pk)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu0
    log_path.write_text(json.dumps(ff.command_log))
    errors = {}
    for r in asset.renditions.all():
        if r.loudness.get("integrated") is not None:
            errors[r.profile] = round(r.loudness["integrated"] - r.loudness["target"], 2)
    return {
        "wall": wall,
        "cpu": cpu,
        "status": asset.status,
        "error": asset.error,
        "lu_errors": errors,
        "commands": len(ff.command_log),
        "corrected": sum(bool(re.search(r"/fix\d+/", " ".join(c))) for _t, c in ff.command_log),
    }


def phase_bare(log_path: Path) -> dict:
    """Replay the recorded commands: main-thread ones in order, pool-thread ones (the
    re-measures) side by side, as many at once as the pipeline ran them (all outputs, at
    most four). Each step's wall time is reported too."""
    commands = json.loads(log_path.read_text())
    groups: list[tuple[bool, list]] = []
    for thread, cmd in commands:
        pooled = thread.startswith("ThreadPoolExecutor")
        if groups and groups[-1][0] == pooled and pooled:
            groups[-1][1].append(cmd)
        else:
            groups.append((pooled, [cmd]))

    for _thread, cmd in commands:  # the pipeline removed its work folders afterwards
        for arg in cmd:
            if "/media-work/" in arg:
                Path(arg).parent.mkdir(parents=True, exist_ok=True)

    def run(cmd):
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    def step_name(pooled: bool, cmds: list) -> str:
        if pooled:
            return "re-measure"
        joined = " ".join(cmds[0])
        if re.search(r"/fix\d+/", joined):
            return "corrective pass"
        return "transcode" if "-progress" in cmds[0] else "measure"

    steps = []
    cpu0, started = cpu_seconds(), time.perf_counter()
    for pooled, cmds in groups:
        t0 = time.perf_counter()
        if pooled:
            with ThreadPoolExecutor(max_workers=min(len(cmds), 4)) as pool:
                list(pool.map(run, cmds))
        else:
            for cmd in cmds:
                run(cmd)
        steps.append((step_name(pooled, cmds), round(time.perf_counter() - t0, 2)))
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu0
    return {"wall": wall, "cpu": cpu, "commands": len(commands), "steps": steps}


NAIVE_PROFILES = ["loudspeaker", "broadcast_audio", "web_audio"]


def naive_recipe(name: str, channels: int) -> tuple[str, float, float, list[str]]:
    """(filters before loudnorm, I, TP, output arguments) of one profile, read from
    ``media.profiles`` through the pipeline's own helpers, so the naive approach makes the
    same product: the same down-mix, pre-filters (the loudspeaker's band-pass, dynaudnorm and
    compressor) and dynamics, the same encoder, channels and rate; only the normalisation
    differs (a two-pass ``loudnorm`` instead of measure-once + linear gain + limiter)."""
    from media.pipeline import SourceInfo, measure_chain, out_channels
    from media.profiles import get_profile

    profile = get_profile(name)
    source = SourceInfo(duration=0, has_audio=True, channels=channels)
    pre = ",".join(x for x in (measure_chain(profile, source), profile.dynamics) if x)
    args = [*profile.codec_args, "-ac", str(out_channels(profile, source))]
    if profile.sample_rate:
        args += ["-ar", str(profile.sample_rate)]
    return (f"{pre}," if pre else ""), profile.target, profile.true_peak, args


def phase_naive(source: Path, out: Path) -> dict:
    import av

    setup_django(out)
    from media.profiles import get_profile

    with av.open(str(source)) as container:
        channels = container.streams.audio[0].codec_context.channels
    recipes = {name: naive_recipe(name, channels) for name in NAIVE_PROFILES}
    ff = ffmpeg()
    outputs = {}
    parts = {"analysis": 0.0, "encode": 0.0, "waveform": 0.0}
    cpu0, started = cpu_seconds(), time.perf_counter()
    for name, (pre, target, tp, args) in recipes.items():
        norm = f"loudnorm=I={target}:TP={tp}:LRA=11"
        t0 = time.perf_counter()
        first = subprocess.run(
            [ff, "-hide_banner", "-nostdin", "-i", str(source), "-af",
             f"{pre}{norm}:print_format=json", "-f", "null", "-"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        parts["analysis"] += time.perf_counter() - t0
        stats = json.loads(re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", first.stderr).group(0))
        second = (
            f"{pre}{norm}:measured_I={stats['input_i']}:measured_TP={stats['input_tp']}"
            f":measured_LRA={stats['input_lra']}:measured_thresh={stats['input_thresh']}"
            f":offset={stats['target_offset']}:linear=true,aresample=48000"
        )
        target_file = out / f"naive-{name}.{get_profile(name).suffix}"
        t0 = time.perf_counter()
        subprocess.run(
            [ff, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(source),
             "-af", second, *args, str(target_file)],
            check=True,
        )  # fmt: skip
        parts["encode"] += time.perf_counter() - t0
        outputs[name] = target_file
    t0 = time.perf_counter()
    subprocess.run(
        [ff, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(source),
         "-filter_complex", "[0:a:0]aresample=8000,showwavespic=s=1200x240", "-frames:v", "1",
         str(out / "naive-waveform.png")],
        check=True,
    )  # fmt: skip
    parts["waveform"] = time.perf_counter() - t0
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu0
    lu = {}
    for name, path in outputs.items():
        proc = subprocess.run(
            [ff, "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-af",
             "ebur128=framelog=verbose", "-f", "null", "-"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        summary = proc.stderr[proc.stderr.rindex("Summary:") :]
        value = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
        lu[name] = round(value - recipes[name][1], 2)
    return {"wall": wall, "cpu": cpu, "lu_errors": lu, "parts": parts,
            "filters": {n: r[0] for n, r in recipes.items()}}  # fmt: skip


def child(args: list[str]) -> tuple[dict, float]:
    """Run one phase in a fresh process; return its result and peak RSS (MB)."""
    proc = subprocess.Popen(
        [sys.executable, __file__, *args], stdout=subprocess.PIPE, cwd=ROOT, text=True
    )
    output = proc.stdout.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"phase {args} failed ({proc.returncode}):\n{output[-3000:]}")
    result = json.loads(output.strip().splitlines()[-1])
    return result, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", default="10,60")
    parser.add_argument("--video-seconds", type=int, default=300)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-video", action="store_true")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--var", help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="audio", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:  # inside a child process
        if args.phase == "pipeline":
            result = phase_pipeline(Path(args.source), Path(args.var), args.kind, Path(args.log))
        elif args.phase == "bare":
            result = phase_bare(Path(args.log))
        else:
            result = phase_naive(Path(args.source), Path(args.var))
        print(json.dumps(result))
        return

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.dev")
    import django

    django.setup()
    rows = []
    began = (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="nguon-bench-media-") as tmp:
        tmp = Path(tmp)
        for minutes in [float(m) for m in args.minutes.split(",") if m]:
            source = make_speech(tmp / f"speech-{minutes:g}min.mp3", minutes)
            seconds = minutes * 60
            var, log = tmp / f"var-{minutes:g}", tmp / f"commands-{minutes:g}.json"
            common = ["--source", str(source), "--var", str(var), "--log", str(log)]
            pipe, pipe_mem = child(["--phase", "pipeline", *common])
            bare, bare_mem = child(["--phase", "bare", *common])
            row = {
                "case": f"{minutes:g} min speech → 3 audio profiles + waveform",
                "pipeline": (pipe["wall"], pipe_mem),
                "bare": (bare["wall"], bare_mem),
                "cpu": {"pipeline": pipe["cpu"], "bare": bare["cpu"]},
                "lu": pipe["lu_errors"],
                "status": pipe["status"],
                "corrected": pipe["corrected"],
                "commands": pipe["commands"],
                "seconds": seconds,
                "steps": bare["steps"],
            }
            if not args.skip_naive:
                out = tmp / f"naive-{minutes:g}"
                out.mkdir()
                naive, naive_mem = child(["--phase", "naive", "--source", str(source),
                                          "--var", str(out)])  # fmt: skip
                row["naive"] = (naive["wall"], naive_mem)
                row["naive_lu"] = naive["lu_errors"]
                row["naive_parts"] = naive["parts"]
                row["cpu"]["naive"] = naive["cpu"]
            rows.append(row)
            print_row(row, flush=True)
        video_row = None
        if not args.skip_video:
            source = make_video(tmp / "video.mp4", args.video_seconds)
            var, log = tmp / "var-video", tmp / "commands-video.json"
            pipe, mem = child(["--phase", "pipeline", "--kind", "video", "--source", str(source),
                               "--var", str(var), "--log", str(log)])  # fmt: skip
            video_row = (args.video_seconds, pipe, mem)
        print_table(rows, video_row)
        print_steps(rows)
    ended = (time.strftime("%Y-%m-%d %H:%M", time.gmtime()), os.getloadavg())
    print(
        f"\n{began[0]} – {ended[0]} UTC; load average (1/5/15 min) at start "
        f"{'/'.join(f'{x:.2f}' for x in began[1])}, at end "
        f"{'/'.join(f'{x:.2f}' for x in ended[1])}; {os.cpu_count()} CPUs"
    )


def print_steps(rows):
    """Where the time goes: (a)'s steps and (b)'s passes (wall seconds), and the CPU time
    (user + system, ffmpeg included) each approach used: on a shared machine the CPU
    seconds move much less than the wall seconds."""
    print()
    print("| case | (a) steps, wall (s) | (b) passes, wall (s) | CPU s: pipeline / bare / naive |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        steps = ", ".join(f"{name} {t:.1f}" for name, t in row["steps"])
        parts = ", ".join(f"{k} {v:.1f}" for k, v in row.get("naive_parts", {}).items())
        cpu = " / ".join(f"{row['cpu'][k]:.1f}" for k in ("pipeline", "bare", "naive")
                         if k in row["cpu"])  # fmt: skip
        print(f"| {row['case'].split(' →')[0]} | {steps} | {parts or '—'} | {cpu} |")


def print_row(row, flush=False):
    print(f"  done: {row['case']}: pipeline {row['pipeline'][0]:.1f} s", flush=flush)


def print_table(rows, video_row):
    print()
    print("| case | approach | wall (s) | realtime × | peak RSS (MB) | max abs(LU error) | notes |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        seconds = row["seconds"]
        lu = max((abs(v) for v in row["lu"].values()), default=float("nan"))
        wall, mem = row["pipeline"]
        note = f"status {row['status']}, {row['commands']} ffmpeg runs"
        fixes = row["corrected"]
        note += f", {fixes} corrective pass(es)" if fixes else ", no corrective pass"
        print(f"| {row['case']} | pipeline | {wall:.1f} | {seconds / wall:.0f} | {mem:.0f} |"
              f" {lu:.2f} | {note} |")  # fmt: skip
        bw, bm = row["bare"]
        print(f"| | (a) bare ffmpeg commands | {bw:.1f} | {seconds / bw:.0f} | {bm:.0f} | | "
              f"pipeline / bare = {wall / bw:.2f}× |")  # fmt: skip
        if "naive" in row:
            nw, nm = row["naive"]
            nlu = max(abs(v) for v in row["naive_lu"].values())
            print(f"| | (b) naive two-pass loudnorm per profile | {nw:.1f} | {seconds / nw:.0f} |"
                  f" {nm:.0f} | {nlu:.2f} | pipeline is {nw / wall:.1f}× faster |")  # fmt: skip
    if video_row:
        seconds, pipe, mem = video_row
        print(f"| {seconds / 60:g} min 1080p25 video → broadcast_video, web_video_720, "
              f"web_video_480, poster, loudspeaker | pipeline | {pipe['wall']:.1f} | "
              f"{seconds / pipe['wall']:.2f} | {mem:.0f} | "
              f"{max((abs(v) for v in pipe['lu_errors'].values()), default=0):.2f} | "
              f"status {pipe['status']} |")  # fmt: skip


if __name__ == "__main__":
    main()
