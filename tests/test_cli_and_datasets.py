"""The embedded dataset and the ``skillinfer-bayes`` command, run as a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

import skillinfer_bayes as sib


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "skillinfer_bayes.cli", *args],
        capture_output=True, text=True, timeout=300,
    )


def test_embedded_leaderboard():
    df = sib.datasets.open_llm_leaderboard()
    assert df.shape == (4576, 8)
    assert list(df.columns) == ["fullname", "params_b", *sib.datasets.BENCHMARKS]
    assert df["fullname"].nunique() == 4497
    assert not df[sib.datasets.BENCHMARKS].isna().any().any()


def test_embedded_onet_skill_matrix():
    table = sib.datasets.onet()
    assert table.shape == (894, 120) and table.index.is_unique
    assert table.index.name == "occupation"
    assert table.notna().all().all() and table.min().min() >= 0 and table.max().max() <= 1
    kinds = pd.Series([c.split(":")[0] for c in table.columns]).value_counts()
    assert kinds.to_dict() == {"Ability": 52, "Skill": 35, "Knowledge": 33}


def test_cli_predict_holds_out_and_prints_the_table():
    result = run_cli(
        "predict", "--hold-out", "meta-llama/Llama-3.1-70B-Instruct", "--observe", "BBH=55.93",
        "--draws", "300", "--tune", "300", "--quiet",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "4575 entities x 6 benchmarks" in out
    assert "MMLU-PRO" in out and "true" in out and "MAE" in out
    assert "Fitting 4575 models" in result.stderr
    for banner in ("FutureWarning", "ArviZ is undergoing", "BLAS"):  # no third-party banner
        assert banner not in result.stderr, result.stderr


def test_importing_the_package_prints_nothing():
    result = subprocess.run([sys.executable, "-W", "default", "-c", "import skillinfer_bayes"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stderr == "" and result.stdout == ""


def test_cli_bad_input_exits_nonzero_with_one_line():
    result = run_cli("predict", "--observe", "FOO=3", "--quiet")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "skillinfer-bayes: error: --observe names unknown benchmark(s) ['FOO']"
    )
    result = run_cli("predict", "--observe", "BBH=high")
    assert result.returncode == 2 and "'high' is not a number" in result.stderr
    result = run_cli("predict", "--hold-out", "nobody/none", "--observe", "BBH=1")
    assert result.returncode == 2 and "is not a row of the data" in result.stderr


def run_command_that_would_abort_at_exit(*args: str) -> subprocess.CompletedProcess:
    """The command run through ``cli.run`` in a process whose interpreter teardown aborts
    (an exit handler standing in for a native thread pool that dies while Python finalizes)."""
    code = (
        "import atexit, os, sys; atexit.register(os.abort); "
        "from skillinfer_bayes.cli import run; run(sys.argv[1:])"
    )
    return subprocess.run([sys.executable, "-c", code, *args],
                          capture_output=True, text=True, timeout=300)


def test_the_command_exits_with_its_status_without_interpreter_teardown():
    result = run_command_that_would_abort_at_exit("predict", "--observe", "FOO=3", "--quiet")
    assert result.returncode == 2, result.stderr
    assert "unknown benchmark(s) ['FOO']" in result.stderr.strip().splitlines()[-1]
    version = run_command_that_would_abort_at_exit("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"skillinfer-bayes {sib.__version__}"
    wrong = run_command_that_would_abort_at_exit("predict", "--no-such-option")
    assert wrong.returncode == 2 and "unrecognized arguments: --no-such-option" in wrong.stderr


FAST = ("--draws", "300", "--tune", "300", "--chains", "4", "--quiet")


def small_csv(tmp_path):
    from helpers import simulate

    path = tmp_path / "scores.csv"
    simulate(150, seed=12).rename_axis("model").to_csv(path)
    return str(path)


def test_cli_fit_then_predict_and_next_from_the_saved_posterior(tmp_path):
    data = small_csv(tmp_path)
    out = str(tmp_path / "pop.nc")
    fit = run_cli("fit", "--data", data, "--index-col", "model", "--hold-out", "m0",
                  "--eta", "3", "--output", out, *FAST)
    assert fit.returncode == 0, fit.stderr
    assert "149 entities x 3 benchmarks" in fit.stdout and "Saved the posterior" in fit.stdout
    assert "Prior(eta=3.0" in fit.stdout
    pred = run_cli("predict", "--posterior", out, "--data", data, "--index-col", "model",
                   "--hold-out", "m0", "--observe", "a=60", "--level", "0.8")
    assert pred.returncode == 0, pred.stderr
    assert "Predicted scores (80% intervals)" in pred.stdout and "MAE" in pred.stdout
    assert "Fitting" not in pred.stderr  # loaded, not refitted
    nxt = run_cli("next", "--posterior", out, "--observe", "a=60", "-k", "2")
    assert nxt.returncode == 0, nxt.stderr
    assert "most_informative" in nxt.stdout and "expected_variance_reduction" in nxt.stdout
    lines = [line for line in nxt.stdout.splitlines() if line.strip().startswith(("b ", "c "))]
    assert len(lines) == 2
    target = run_cli("next", "--posterior", out, "--target", "a=0.5,c=0.5")
    assert target.returncode == 0 and "target a=0.5,c=0.5" in target.stdout
    uncertain = run_cli("next", "--posterior", out, "--rule", "most_uncertain", "-k", "1")
    assert uncertain.returncode == 0 and "std" in uncertain.stdout


def test_cli_evaluate_prints_the_summary(tmp_path):
    data = small_csv(tmp_path)
    cells = str(tmp_path / "cells.csv")
    result = run_cli("evaluate", "--data", data, "--index-col", "model", "--methods",
                     "bayes,plugin", "--n-observed", "1", "--output", cells, *FAST)
    assert result.returncode == 0, result.stderr
    assert "coverage_90" in result.stdout and "bayes" in result.stdout
    assert "plugin" in result.stdout and "Wrote 360 cells" in result.stdout


def test_cli_help_explains_each_subcommand():
    from skillinfer_bayes.cli import build_parser

    parser = build_parser()
    top = parser.format_help()
    for command in ("fit", "predict", "next", "evaluate"):
        assert command in top
    sub = {name: p.format_help() for name, p in
           parser._subparsers._group_actions[0].choices.items()}
    assert "expected reduction" in sub["next"]
    assert "--posterior" in sub["predict"]
    assert "calibration" in sub["evaluate"]
    assert "--output" in sub["fit"]
    result = run_cli("fit", "--help")  # and the installed entry point answers --help
    assert result.returncode == 0 and "Fit the population model" in result.stdout


def test_cli_subcommands_reject_bad_input_with_one_line(tmp_path, capsys, fake_sampler):
    from skillinfer_bayes.cli import main

    # (arguments, exit status, message): 2 = the command line is wrong, 1 = the run failed
    cases = [
        (("fit", "--output", str(tmp_path / "x.nc"), "--eta", "-1", "--quiet"), 2,
         "Prior eta must be a finite number > 0"),
        (("predict", "--posterior", str(tmp_path / "missing.nc"), "--observe", "BBH=1"), 1,
         "No saved posterior at"),
        (("next", "--target", "NOPE", "--data", small_csv(tmp_path), "--index-col", "model",
          "--draws", "200", "--chains", "2", "--quiet"), 2, "Unknown benchmark 'NOPE'"),
        (("evaluate", "--methods", "bayes,magic"), 2, "Unknown method(s) ['magic']"),
        (("evaluate", "--n-observed", "one"), 2, "--n-observed takes integers"),
        # options a saved posterior makes moot are refused, not ignored (issue 32, item 5)
        (("predict", "--posterior", str(tmp_path / "missing.nc"), "--transform", "logit",
          "--covariate", "nosuchcolumn:log", "--observe", "BBH=1"), 2,
         "--transform, --covariate would do nothing with --posterior"),
        (("predict", "--posterior", str(tmp_path / "missing.nc"), "--data", "other.csv",
          "--observe", "BBH=1"), 2, "--data would do nothing with --posterior"),
    ]
    (tmp_path / "broken.nc").write_text("not a posterior")
    cases.append((("predict", "--posterior", str(tmp_path / "broken.nc")), 1,
                  "as a saved posterior"))
    for args, status, message in cases:
        assert main(list(args)) == status, args
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert last.startswith("skillinfer-bayes: error: ") and message in last, last
    missing = run_cli("fit")  # argparse: a required option is missing
    assert missing.returncode == 2 and "--output" in missing.stderr


def test_cli_version_module_entry_and_debug(tmp_path, capsys, monkeypatch):
    from skillinfer_bayes import cli

    result = subprocess.run([sys.executable, "-m", "skillinfer_bayes", "--version"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == f"skillinfer-bayes "\
        f"{sib.__version__}"
    # --debug shows the traceback instead of the one line
    with pytest.raises(FileNotFoundError, match="No saved posterior"):
        cli.main(["--debug", "predict", "--posterior", str(tmp_path / "missing.nc")])
    # an error that is not the package's own is a bug: not swallowed into one line

    def broken(args):
        return {}["third-party KeyError"]

    monkeypatch.setattr(cli, "_predict", broken)
    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser(), broken))
    with pytest.raises(KeyError, match="third-party KeyError"):
        cli.main(["predict"])


def _with_func(parser, func):
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            sub.set_defaults(func=func)
    return parser


def ranking_table(tmp_path):
    """300 leaderboard models and three new ones, two of which have not run MMLU-PRO."""
    df = sib.datasets.open_llm_leaderboard().set_index("fullname")[sib.datasets.BENCHMARKS]
    df = df[~df.index.duplicated()].iloc[:300].copy()
    new = pd.DataFrame({"BBH": [60.0, 20.0, 40.0], "IFEval": [80.0, 30.0, 55.0],
                        "MMLU-PRO": [float("nan"), float("nan"), 35.0]},
                       index=["strong", "weak", "scored"])
    path = tmp_path / "runs.csv"
    pd.concat([df, new]).to_csv(path)
    return path


def test_cli_rank_compares_rows_on_a_target(tmp_path, capsys):
    from skillinfer_bayes.cli import main

    path = ranking_table(tmp_path)
    status = main(["rank", "--data", str(path), "--target", "MMLU-PRO",
                   "--models", "strong,weak,scored", "--draws", "200", "--tune", "200",
                   "--quiet", "--no-cache"])
    out = capsys.readouterr().out
    assert status == 0
    assert "Ranking 3 models on MMLU-PRO" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[3:]}
    assert set(lines) == {"strong", "weak", "scored"}
    p_best = {name: float(cells[5]) for name, cells in lines.items()}
    assert sum(p_best.values()) == pytest.approx(1.0, abs=0.002)
    assert p_best["strong"] > p_best["weak"]
    assert out.splitlines()[3].split()[0] == "strong"  # highest expected score first


@pytest.mark.parametrize("args, match", [
    (["--target", "NOPE"], r"--target: Unknown target 'NOPE'"),
    (["--target", "MMLU-PRO", "--models", "strong,ghost"], r"--models names \['ghost'\]"),
    (["--target", "MMLU-PRO"], r"The table has 303 models: choose up to 20 with --models"),
])
def test_cli_rank_refuses_bad_requests_before_fitting(tmp_path, capsys, args, match):
    from skillinfer_bayes.cli import main

    status = main(["rank", "--data", str(ranking_table(tmp_path)), *args, "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert "Fitting" not in err  # refused before any fit
    assert re.search(match, err), err
