"""The instructor's class board (widgets/board_page.py), without a browser: its figures from
a SQLite board filled with a simulated class, who may open it, the live refresh and the
CSV download. The numbers each summary should name are worked out here from the class's
plan, not with the page's own helpers."""
import asyncio
import base64
import collections
import re
import statistics

import pytest

from widgets import board_page as bp
from widgets import plots
from widgets.board_page import BoardPage, access, board_page
from workbench.board import Board, BoardError
from workbench.exercises import QUESTIONS

HOSTILE = "<img src=x onerror=alert(1)>"
SQL = "'); DROP TABLE runs;--"
LEARNERS = [HOSTILE, SQL, "ada", "bo", "cy", "di", "ed", "flo"]
TAGS = re.compile(r"<\s*(img|script|svg|b)\b", re.I)  # a tag made of a learner's text


def planned_runs():
    """(learner, T, alpha, gain, left_out, recovery, recovery_hard) of each Distillation lab
    run, in the order recorded: at T = 1 every gain within half a point of zero, at T >= 4
    2 to 5.5 points; four learners left a 3 out of their T >= 4 run, and ada left a 5 out of a
    later run at T = 2 (a third α)."""
    runs = []
    for i, name in enumerate(LEARNERS):
        alpha = (0.5, 0.9)[i % 2]
        runs.append((name, 1.0, alpha, (i - 3) / 1000, None, None, None))
        left = i < 4
        runs.append((name, (4.0, 8.0)[i % 2], alpha, 0.02 + i / 200, "3" if left else None,
                     0.3 + i / 10 if left else None, 0.05 if left else None))
    runs.append(("ada", 2.0, 0.7, 0.01, "5", 0.82, 0.1))
    return runs


QUIZ_1 = QUESTIONS["kd_loss"][0]
RIGHT_1 = next(a["answer"] for a in QUIZ_1["answers"] if a["correct"])
WRONG_1, WRONG_1B = [a["answer"] for a in QUIZ_1["answers"] if not a["correct"]][:2]
QUIZ_2 = QUESTIONS["soft_labels"][0]
RIGHT_2 = next(a["answer"] for a in QUIZ_2["answers"] if a["correct"])
WRONG_2 = next(a["answer"] for a in QUIZ_2["answers"] if not a["correct"])
SCRIPT = "<script>alert(2)</script>"


def planned_answers():
    """(learner, question_id, choice, correct) in the order answered: learners 0-4 first
    choose the same wrong answer to kd_loss-1 and then the right one, learner 5 another
    wrong one, 6 and 7 the right one; soft_labels-1 all right but flo; an unknown id
    answered by three, the hostile learner wrong with a script as the choice."""
    out = []
    for i, name in enumerate(LEARNERS):
        first = WRONG_1 if i < 5 else WRONG_1B if i == 5 else RIGHT_1
        out.append((name, "kd_loss-1", first, first == RIGHT_1))
        if i < 5:
            out.append((name, "kd_loss-1", RIGHT_1, True))  # a retry after the feedback: not counted
        out.append((name, "soft_labels-1", WRONG_2 if name == "flo" else RIGHT_2, name != "flo"))
    out += [(HOSTILE, "mystery-7", SCRIPT, False), ("ada", "mystery-7", "yes", True), ("bo", "mystery-7", "yes", True)]
    return out


def planned_checks():
    """(learner, exercise_id, passed): check_kd_loss passed by the even learners (ada twice)
    and by learner 1 at a second try; check_forward_reverse tried by three, passed by one; an id
    with a tag in it, tried once."""
    out = [(name, "check_kd_loss", i % 2 == 0) for i, name in enumerate(LEARNERS)]
    out.append((LEARNERS[1], "check_kd_loss", True))
    out.append(("ada", "check_kd_loss", True))  # passed again: still one learner
    out += [(name, "check_forward_reverse", i == 0) for i, name in enumerate(LEARNERS[:3])]
    out.append(("cy", "<svg onload=alert(3)>", False))
    return out


def points(v):
    """A signed number of points as the page says it: one decimal, no "-0.0"."""
    return f"{v:+.1f}".replace("-0.0", "+0.0")


def record_run(board, run):
    name, t, alpha, gain, left, recovery, hard = run
    board.record(name, bp.LAB, {"temperature": t, "alpha": alpha, "left_out": left or "", "seed": 0},
                 {"distilled": 0.9, "hard labels": 0.9 - gain, "teacher": 0.97, "gain": gain, "left_out": left,
                  "left_out_recovery": recovery, "left_out_recovery_hard": hard})


@pytest.fixture
def board(tmp_path):
    board = Board(tmp_path / "board.sqlite")
    for run in planned_runs():
        record_run(board, run)
    board.record("ada", "Feature KD", {"temperature": 1.0}, {"gain": 0.5})  # another lab: not on these figures
    board.record("bo", bp.LAB, {"temperature": 4.0, "alpha": 0.9}, {"gain": None})  # stopped: no gain
    board.record("cy", bp.LAB, {"temperature": SQL, "alpha": "x"}, {"gain": "lots"})  # text where numbers go
    board.record("di", bp.LAB, {"temperature": 4.0, "alpha": 0.9}, {"gain": 1e9})  # no accuracy differs by that
    for a in planned_answers():
        board.answer(*a)
    for c in planned_checks():
        board.check(*c)
    yield board
    board.close()


def figure(fn, board):
    return fn(board.runs() if fn in (bp.gain_scatter, bp.gain_histogram, bp.recovery_bars) else board.answers())


def test_the_gain_scatter_says_the_mean_gain_at_each_temperature_and_draws_a_series_per_alpha(board):
    runs = planned_runs()
    fig = figure(bp.gain_scatter, board)
    low = [r[3] * 100 for r in runs if r[1] <= 1]
    middle = [r[3] * 100 for r in runs if 1 < r[1] < 4]
    high = [r[3] * 100 for r in runs if r[1] >= 4]
    assert abs(statistics.mean(low)) < 0.5 < 2 < statistics.mean(high)  # the spread the class was made with
    said = plots.summary(fig)
    who = {band: len({r[0] for r in runs if inside(r[1])}) for band, inside in
           (("low", lambda t: t <= 1), ("middle", lambda t: 1 < t < 4), ("high", lambda t: t >= 4))}
    left_outs = {r[4] or "" for r in runs}
    assert len(left_outs) > 1  # the class left out different digits (or none): the sentence must say so
    assert said == (f"Gain of distillation against the temperature T: {len(runs)} runs from {len(LEARNERS)} learners; "
                    f"mean gain at T ≤ 1 {points(statistics.mean(low))} points ({len(low)} runs from {who['low']} "
                    f"learners), at 1 < T < 4 {points(statistics.mean(middle))} points ({len(middle)} run from "
                    f"{who['middle']} learner), at T ≥ 4 {points(statistics.mean(high))} points ({len(high)} runs "
                    f"from {who['high']} learners); the runs also differ in left_out, so compare runs of the same "
                    f"settings (the table).")
    by_alpha = collections.defaultdict(list)
    for r in runs:
        by_alpha[f"α = {r[2]:g}"].append((r[1], pytest.approx(r[3] * 100)))
    drawn = {t.name: list(zip(t.x, t.y)) for t in fig.data if t.type == "scatter"}
    assert drawn == by_alpha
    assert len({(t.marker.color, t.marker.symbol) for t in fig.data}) == 3
    assert len({t.marker.symbol for t in fig.data}) == 3  # told apart by the marker too, not colour alone
    columns, rows = plots.table(fig)
    assert columns[:4] == ["learner", "temperature T", "α", "gain (accuracy points)"] and len(rows) == len(runs)


def test_a_mean_gain_just_below_zero_is_said_as_plus_zero_not_minus_zero(tmp_path):
    with Board(tmp_path / "b.sqlite") as board:
        for k, gain in enumerate((-0.0004, 0.0001)):  # -0.04 and +0.01 points: mean -0.015
            record_run(board, (f"l{k}", 1.0, 0.9, gain, None, None, None))
        said = plots.summary(bp.gain_scatter(board.runs()))
        spread = plots.summary(bp.gain_histogram(board.runs()))
    assert "mean gain at T ≤ 1 +0.0 points (2 runs from 2 learners)." in said and "-0.0" not in said + spread


def test_many_alphas_fall_into_three_bins(tmp_path):
    with Board(tmp_path / "b.sqlite") as board:
        for k, alpha in enumerate((0.0, 0.2, 0.5, 0.6, 0.9, 1.0)):
            record_run(board, (f"l{k}", 4.0, alpha, 0.01 * k, None, None, None))
        fig = bp.gain_scatter(board.runs())
    assert [(t.name, len(t.x)) for t in fig.data if t.type == "scatter"] == [
        ("α < 0.5", 2), ("0.5 ≤ α < 0.9", 2), ("α ≥ 0.9", 2)]


def test_the_histogram_counts_every_gain_in_its_bin_and_says_the_median(board):
    gains = [r[3] * 100 for r in planned_runs()]
    fig = figure(bp.gain_histogram, board)
    bins = plots.table(fig)[1]
    assert sum(n for _, _, n in bins) == len(gains)
    for low, high, n in bins:
        assert n == sum(low <= g < high for g in gains) and high - low in (0.5, 1, 2, 5)
    assert list(fig.data[0].y) == [n for _, _, n in bins]
    assert plots.summary(fig) == (f"How the gains spread: {len(gains)} runs; median gain "
                                  f"{points(statistics.median(gains))} points, {sum(g > 0 for g in gains)} of "
                                  f"{len(gains)} above zero, from {points(min(gains))} to {points(max(gains))} points.")


def test_recovery_shows_each_learners_latest_left_out_run_by_name(board):
    latest = {}
    for name, t, alpha, gain, left, recovery, hard in planned_runs():
        if recovery is not None:
            latest[name] = (left, recovery, hard)
    assert latest["ada"] == ("5", 0.82, 0.1)  # ada's later run, not her first
    fig = figure(bp.recovery_bars, board)
    rows = {r[0]: (r[1], r[2], r[3]) for r in plots.table(fig)[1]}
    assert rows == {name: (left, pytest.approx(rec), pytest.approx(hard)) for name, (left, rec, hard) in latest.items()}
    distilled = [r for _, r, _ in latest.values()]
    hard = [h for _, _, h in latest.values()]
    said = plots.summary(fig)
    assert (f"{len(latest)} learners left a digit out; on average the distilled students recognise "
            f"{statistics.mean(distilled):.2f} of its test images, the hard-label students "
            f"{statistics.mean(hard):.2f}") in said
    digits = sorted({left for left, _, _ in latest.values()})
    assert len(digits) > 1 and f"(digits left out: {', '.join(digits)};" in said  # the mean mixes them: said
    assert [t.name for t in fig.data] == ["distilled", "hard labels"]
    assert fig.data[0].y[0] == "ada" and fig.data[0].x[0] == pytest.approx(0.82)  # the best on top
    assert "&lt;img src=x onerror=alert(1)&gt;" in fig.data[0].y  # named, as text


def test_the_quiz_counts_first_answers_and_names_the_misconception(board):
    fig = figure(bp.quiz_bars, board)
    first = {}
    for learner, qid, choice, correct in planned_answers():
        first.setdefault((learner, qid), (choice, correct))
    share = {q: statistics.mean(c for (_, qq), (_, c) in first.items() if qq == q)
             for q in ("kd_loss-1", "soft_labels-1", "mystery-7")}
    assert share["kd_loss-1"] == 2 / 8  # the retries after the feedback do not count
    rows = plots.table(fig)[1]
    assert [r[0] for r in rows] == sorted(share, key=share.get)  # hardest first
    table = {r[0]: r[1:] for r in rows}
    assert table["kd_loss-1"] == [QUIZ_1["question"], 8, pytest.approx(2 / 8), WRONG_1, 5]
    assert table["soft_labels-1"] == [QUIZ_2["question"], 8, pytest.approx(7 / 8), WRONG_2, 1]
    # an unknown id shows as itself
    assert table["mystery-7"] == ["mystery-7", 3, pytest.approx(2 / 3, abs=1e-4), SCRIPT, 1]
    right = sum(c for _, c in first.values())
    assert plots.summary(fig) == (f"Quiz: share of the class whose first answer was right: 3 questions answered by "
                                  f"{len(LEARNERS)} learners, {right} of {len(first)} first answers right; hardest "
                                  f"kd_loss-1 (0.25 right, most chosen wrong answer “{WRONG_1}” by 5).")
    labels = list(fig.data[0].y)
    assert labels[0].startswith("kd_loss-1: Why is the soft-target term") and labels[-1].startswith("soft_labels-1: ")
    hover = fig.data[0].hovertext[0]
    assert "2 of 8 first answers right" in hover and "most chosen wrong answer (5)" in hover
    assert bp.esc(WRONG_1) in hover
    said_on_bar = labels[0].split("<br>")[1]  # the misconception on the projected figure itself
    assert said_on_bar.startswith("<i>most chose: ") and bp.esc(WRONG_1)[:30] in said_on_bar


def test_exercise_completion_counts_learners_who_tried_and_passed(board):
    tried, passed = collections.defaultdict(set), collections.defaultdict(set)
    for learner, ex, ok in planned_checks():
        tried[ex].add(learner)
        if ok:
            passed[ex].add(learner)
    fig = figure(bp.exercise_bars, board)
    assert {r[0]: (r[1], r[2]) for r in plots.table(fig)[1]} == {e: (len(tried[e]), len(passed[e])) for e in tried}
    assert len(passed["check_kd_loss"]) == 5  # learner 1 passed at a second try
    assert plots.summary(fig).endswith(f"{sum(map(len, passed.values()))} passes of {sum(map(len, tried.values()))} "
                                       f"tries (learner and exercise); fewest passed <svg onload=alert(3)>: 0 of 1 "
                                       f"who tried.")
    assert [t.name for t in fig.data] == ["tried", "passed"]
    assert fig.data[0].marker.pattern.shape != fig.data[1].marker.pattern.shape


@pytest.mark.parametrize("fn, words", [(bp.gain_scatter, "no runs yet"), (bp.gain_histogram, "no runs yet"),
                                       (bp.recovery_bars, "no runs with a left-out digit yet"),
                                       (bp.quiz_bars, "no quiz answers yet"),
                                       (bp.exercise_bars, "no exercise checks yet")])
def test_an_empty_board_says_so_in_every_figure(tmp_path, fn, words):
    with Board(tmp_path / "empty.sqlite") as board:
        fig = figure(fn, board)
    assert plots.summary(fig).endswith(f": {words}.") and plots.table(fig)[1] == []
    assert not [t for t in fig.data if len(t.x if t.x is not None else ())]
    assert fig.layout.annotations[0].text.lower() == words


def strings(tree, path=""):
    """(path, text) of every string in a plotly JSON tree, its layout.meta aside (the summary
    and the table, which plotly never renders; the page escapes them into HTML)."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            if path != "layout" or k != "meta":
                yield from strings(v, f"{path}.{k}" if path else k)
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from strings(v, f"{path}[{i}]")
    elif isinstance(tree, str):
        yield path, tree


def figure_text(page):
    """Every string the page's figures carry: traces, layout, summaries and tables."""
    shown = []
    for widget in page.figures:
        shown += [s for _, s in strings({"data": [t.to_plotly_json() for t in widget.data],
                                         "layout": widget.layout.to_plotly_json()})]
        shown += [widget.view.summary.value, widget.view.table.table]
    return "\n".join(shown)


def test_names_are_hidden_until_the_instructor_shows_them_and_a_learner_keeps_one_number(board):
    page = BoardPage(board)
    hidden = figure_text(page)
    runs, answers = board.runs(), board.answers()
    everyone = set(runs["learner"]) | set(answers["learner"])
    assert not [n for n in everyone if bp.esc(n) in hidden and len(n) > 2], "a name shows while names are hidden"
    renamed_runs, renamed_answers = bp.pseudonyms(runs, answers)
    first = runs.sort_values("id").iloc[0]["learner"]
    assert set(renamed_runs[runs["learner"] == first]["learner"]) == {"learner 1"}
    assert set(renamed_answers[answers["learner"] == first]["learner"]) <= {"learner 1"}
    assert "learner 1" in hidden
    page.names_box.value = True
    assert bp.esc(first) in figure_text(page)


def test_a_learners_text_is_escaped_in_every_figure_and_every_html_widget(board):
    page = BoardPage(board)
    page.names_box.value = True  # the names, as the instructor may show them
    page.download()
    shown = []
    for widget in page.figures:
        shown += list(strings({"data": [t.to_plotly_json() for t in widget.data],
                               "layout": widget.layout.to_plotly_json()}))
        shown += [("summary", widget.view.summary.value), ("table", widget.view.table.table)]
    shown += [("status", page.status.value), ("links", page.links.value), ("message", page.message.value)]
    tags = [(where, s) for where, s in shown if TAGS.search(s)]
    assert not tags
    joined = "\n".join(s for _, s in shown)
    for text in (HOSTILE, SCRIPT, SQL):
        assert bp.esc(text) in joined  # shown, as text
    table = page.figures[0].view.table.table
    assert "<td>&lt;img src=x onerror=alert(1)&gt;</td>" in table


TOKEN = "Zq3-board-token"


@pytest.mark.parametrize("query, env, allowed", [
    (f"token={TOKEN}", {bp.TOKEN_ENV: TOKEN}, True),
    (f"?tab=x&token={TOKEN}", {bp.TOKEN_ENV: TOKEN}, True),
    ("token=wrong", {bp.TOKEN_ENV: TOKEN}, False),
    (f"token={TOKEN[:-1]}", {bp.TOKEN_ENV: TOKEN}, False),  # a prefix is not the token
    (f"token={TOKEN}x", {bp.TOKEN_ENV: TOKEN}, False),
    ("token=", {bp.TOKEN_ENV: TOKEN}, False),
    ("", {bp.TOKEN_ENV: TOKEN}, False),
    ("token=%C5%A7", {bp.TOKEN_ENV: TOKEN}, False),  # not ASCII: refused, no crash
    ("token=", {}, False),  # no token set: an empty one in the link does not match it
    ("token=", {bp.TOKEN_ENV: ""}, False),
    ("", {bp.TOKEN_ENV: ""}, False),
    ("", {"JUPYTERHUB_USER": "prof", bp.INSTRUCTORS_ENV: "ta, prof"}, True),
    ("token=wrong", {"JUPYTERHUB_USER": "prof", bp.INSTRUCTORS_ENV: "prof"}, True),
    ("", {"JUPYTERHUB_USER": "bob", bp.INSTRUCTORS_ENV: "ta,prof"}, False),
    ("", {"JUPYTERHUB_USER": "pro", bp.INSTRUCTORS_ENV: "prof"}, False),
    ("", {"JUPYTERHUB_USER": "prof"}, False),  # no instructors named
    ("", {"JUPYTERHUB_USER": "", bp.INSTRUCTORS_ENV: ", ,"}, False),
])
def test_access_needs_the_boards_token_or_the_hubs_instructor(query, env, allowed):
    ok, reason = access(query, env)
    assert ok is allowed
    if not ok:
        assert "open the link `make board` printed, with its token, or sign in as the hub's instructor" in reason


def test_a_refused_page_says_what_is_needed_and_never_opens_the_board(monkeypatch, tmp_path):
    opened = []
    monkeypatch.setattr(bp, "Board", lambda *a, **k: opened.append(a) or pytest.fail("the board was opened"))
    env = {bp.TOKEN_ENV: TOKEN, "KD_WORKBENCH_BOARD": str(tmp_path / "b.sqlite"), "QUERY_STRING": "token=nope"}
    page = board_page(env=env)
    text = " ".join(c.value for c in page.children if hasattr(c, "value"))
    assert "the link&#x27;s token is not this board&#x27;s" in text and "make board" in text
    assert not opened and not isinstance(page, BoardPage) and not (tmp_path / "b.sqlite").exists()


def test_the_right_token_opens_the_board_named_by_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "class.sqlite"
    with Board(path) as board:
        record_run(board, ("ada", 4.0, 0.9, 0.03, None, None, None))
    monkeypatch.delenv("KD_WORKBENCH_BOARD", raising=False)
    page = board_page(query=f"token={TOKEN}", env={bp.TOKEN_ENV: TOKEN, "KD_WORKBENCH_BOARD": str(path)})
    assert isinstance(page, BoardPage) and page.task is None  # no event loop here: no live refresh
    assert "1 learner, 1 run, 0 answers." in page.status.value
    assert "+3.0 points" in page.figures[0].view.text


def test_refresh_shows_rows_added_since(board):
    page = BoardPage(board)
    before = len(page.figures[0].data[0].x) + len(page.figures[0].data[1].x)
    record_run(board, ("newcomer", 1.0, 0.5, -0.002, None, None, None))
    board.answer("newcomer", "kd_loss-1", RIGHT_1, True)
    assert "8 learners" in page.status.value
    assert page.refresh()
    assert f"9 learners, {len(planned_runs()) + 5} runs" in page.status.value
    assert len(page.figures[0].data[0].x) + len(page.figures[0].data[1].x) == before + 1
    assert "from 9 learners" in page.figures[0].view.text and "9 learners" in page.figures[3].view.text


def test_a_board_that_cannot_be_read_says_so_keeps_the_figures_and_recovers(board, monkeypatch):
    page = BoardPage(board, refresh_seconds=7)
    shown = page.figures[0].view.text
    record_run(board, ("newcomer", 1.0, 0.5, 0.0, None, None, None))
    reads = board.runs

    def locked(*a, **k):
        raise BoardError("the class board (b.sqlite) could not be used: database is locked")
    monkeypatch.setattr(board, "runs", locked)
    assert page.refresh() is False
    assert page.message.text.startswith("⚠ The board could not be read (the class board (b.sqlite) could not be "
                                        "used: database is locked); the figures show the board as it was at ")
    assert page.message.text.endswith("Trying again in 7 s.") and "kd-alert" in page.message._dom_classes
    assert page.figures[0].view.text == shown  # kept
    monkeypatch.setattr(board, "runs", reads)
    assert page.refresh() and page.message.text == "" and page.figures[0].view.text != shown


async def until(condition, seconds=20):
    """Wait on the event loop until condition() holds (False after `seconds`: a slow machine
    only waits longer, it never fails a test that would pass)."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


def test_the_live_refresh_picks_up_new_rows_and_survives_a_failure(board, monkeypatch):
    async def live_for_a_while():
        page = BoardPage(board, refresh_seconds=0.02)
        assert page.task is not None
        record_run(board, ("newcomer", 4.0, 0.9, 0.04, None, None, None))
        picked_up = await until(lambda: "from 9 learners" in page.figures[0].view.text)
        reads = board.answers
        monkeypatch.setattr(board, "answers", lambda *a, **k: (_ for _ in ()).throw(BoardError("server down")))
        failed = await until(lambda: "The board could not be read (server down)" in page.message.text)
        monkeypatch.setattr(board, "answers", reads)
        board.answer("newcomer", "kd_loss-1", RIGHT_1, True)
        recovered = await until(lambda: page.message.text == "" and "9 learners" in page.figures[3].view.text)
        page.close()
        return picked_up, failed, recovered, page.task
    assert asyncio.run(live_for_a_while()) == (True, True, True, None)


def test_an_unchecked_live_box_pauses_the_refresh(board):
    async def paused():
        page = BoardPage(board, refresh_seconds=0.02)
        page.live_box.value = False
        before = page.status.value
        record_run(board, ("newcomer", 4.0, 0.9, 0.04, None, None, None))
        await asyncio.sleep(0.2)
        still = page.status.value == before and "from 8 learners" in page.figures[0].view.text
        page.live_box.value = True
        resumed = await until(lambda: "from 9 learners" in page.figures[0].view.text)
        page.close()
        return still, resumed
    assert asyncio.run(paused()) == (True, True)


def test_a_new_page_stops_the_previous_pages_refresh(board):
    async def two_pages():
        first = BoardPage(board, refresh_seconds=0.02)
        second = BoardPage(board, refresh_seconds=0.02)
        stopped = await until(first.task.done)
        running = not second.task.done()
        second.close()
        return stopped, running
    assert asyncio.run(two_pages()) == (True, True)


def test_the_csv_download_links_hold_the_boards_files(board):
    page = BoardPage(board)
    page.download()
    links = dict(re.findall(r'<a download="([^"]+)" href="data:text/csv;charset=utf-8;base64,([^"]+)"',
                            page.links.value))
    assert set(links) == {"runs.csv", "gradebook.csv"}
    runs = base64.b64decode(links["runs.csv"]).decode()
    assert HOSTILE in runs and SQL in runs and "result: gain" in runs
    book = base64.b64decode(links["gradebook.csv"]).decode()
    assert "check_kd_loss" in book and "ada" in book
    assert f"runs.csv</a> ({len(planned_runs()) + 4} rows)" in page.links.value


def test_a_failed_export_is_a_message(board, monkeypatch):
    page = BoardPage(board)
    monkeypatch.setattr(board, "export_csv", lambda folder: (_ for _ in ()).throw(BoardError("disk full")))
    assert page.download() is None
    assert page.message.text == "⚠ The CSV files could not be written: disk full" and page.links.value == ""


def test_no_refresh_interval_means_refresh_by_hand_only(board):
    async def by_hand():
        page = BoardPage(board, refresh_seconds=None)
        record_run(board, ("newcomer", 4.0, 0.9, 0.04, None, None, None))
        await asyncio.sleep(0.1)
        before = page.figures[0].view.text
        page.board = None  # a refresh now fails: its message says how to try again
        page.refresh()
        return page.task, before, page.live_box.layout.display, page.message.text
    task, before, shown, said = asyncio.run(by_hand())
    assert task is None and "from 8 learners" in before and shown == "none"
    assert said.endswith("Press Refresh now to try again.")


@pytest.mark.parametrize("seconds", [0, -1, "5", True, 7200])
def test_a_bad_refresh_interval_is_a_value_error_naming_it(board, seconds):
    with pytest.raises(ValueError, match=r"refresh_seconds must be a number of seconds in \(0, 3600\], or None"):
        BoardPage(board, refresh_seconds=seconds)


def test_a_board_unreadable_from_the_start_still_opens_the_page_with_a_message(board, monkeypatch):
    monkeypatch.setattr(board, "answers", lambda *a, **k: (_ for _ in ()).throw(BoardError("locked")))
    page = BoardPage(board)
    assert "The board could not be read (locked)" in page.message.text
    assert all(f.view.text.endswith("yet.") for f in page.figures)
    assert page.status.value == "Not read yet." and page.refresh() is False
