"""The embedded dataset and the ``skillinfer-bayes`` command, run as a subprocess."""

from __future__ import annotations

import subprocess
import sys

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
