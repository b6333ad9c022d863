"""Jitter from the webcam as a stream: the stream's view fed rendered frames of a figure moving 0.1 px per frame
(jitter.py's renderer) keeps a bounded history, arg-max's track moves in whole strides while soft-argmax's moves
smoothly, its jitter numbers are the shared jitter function's, a bad frame gets one sentence, and the sentences
state only what the numbers beside them show (hypothesis, on synthetic tracks)."""

from __future__ import annotations

import base64
import io

import gradio as gr
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import demos.keypoints as kp
from demos.beyond import jitter as J
from demos.beyond import views as V
from demos.common import ui
from demos.common.errors import UserInputError

MODEL = "heatmap-s4"
SPEED = 0.1


@pytest.fixture(scope="module")
def moving():
    return J.moving_frames(kp.HELDOUT_SEED0, J.KEEP + 10, SPEED)


@pytest.fixture(scope="module")
def streamed(moving):
    """The view called once per frame, as the stream calls it, the history carried from call to call."""
    images = moving[0]
    history, lengths, counts = None, [], []
    for frame in images:
        out = V.jitter_webcam(frame, MODEL, "l_wrist", history)
        history = out["history"]
        lengths.append(len(history["frame"]))
        counts.append(history["n"])
    return out, history, lengths, counts


def test_history_is_bounded_to_the_last_frames(streamed, moving):
    out, history, lengths, counts = streamed
    n = len(moving[0])
    assert counts == list(range(1, n + 1))
    assert lengths == [min(i, J.KEEP) for i in range(1, n + 1)]
    assert history["frame"].tolist() == list(range(n - J.KEEP, n))
    assert history["coords"].shape == (J.KEEP, len(kp.DECODERS), len(kp.JOINTS), 2)
    assert set(out) == {"tracks", "text", "history"}
    assert f"Over the last {J.KEEP} frames" in out["text"]


def test_argmax_moves_in_whole_strides_and_soft_argmax_smoothly(streamed, moving):
    _, history, _, _ = streamed
    _, truth, visible, _ = moving
    stride = kp.get_model(MODEL).stride
    assert history["cell"] == (stride, stride)  # 128 px frames: camera px are the model's input px
    tracks = {k: J.camera_tracks(history, k) for k in np.flatnonzero(visible)}
    n_steps = 0
    for k, tr in tracks.items():
        st_ = J.staircase(tr["argmax"][:, 0], stride)
        assert st_["whole_strides"], kp.JOINTS[k]
        n_steps += st_["n_steps"]
        soft = np.diff(tr["soft_argmax"][:, 0])
        assert np.abs(soft).max() < stride / 2, kp.JOINTS[k]  # never a jump of a cell
    assert n_steps >= 1  # over 6 px of motion some joint crosses a cell border
    # arg-max stands still in most frame steps; soft-argmax moves in most of them
    still_argmax = np.mean([np.mean(np.diff(tr["argmax"][:, 0]) == 0) for tr in tracks.values()])
    still_soft = np.mean([np.mean(np.abs(np.diff(tr["soft_argmax"][:, 0])) < 1e-6) for tr in tracks.values()])
    assert still_argmax > 0.8 > 0.2 > still_soft


def test_jitter_numbers_are_the_shared_jitter_functions(streamed):
    out, history, _, _ = streamed
    j = kp.JOINTS.index("l_wrist")
    tracks = J.camera_tracks(history, j)
    stats = J.camera_stats(tracks)
    for d, tr in tracks.items():
        p = tr[:, None, :]
        assert stats[d]["jitter"] == J.jitter(p[1:], p[:-1], np.ones(1, bool))
        assert f"| {kp.DECODER_LABELS[d]} | {stats[d]['jitter']:.3f} |" in out["text"]


def test_jitter_without_truth_is_the_rms_second_difference():
    track = np.zeros((6, 1, 2))
    track[:, 0, 0] = [0, 0, 0, 4, 4, 4]  # second differences 0, 4, -4, 0
    assert J.jitter_no_truth(track) == pytest.approx(np.sqrt(32 / 4))
    track[:, 0, 0] = 3 + 0.1 * np.arange(6)  # constant velocity: no jitter
    assert J.jitter_no_truth(track) < 1e-12


def test_a_pause_or_another_model_starts_a_new_history(moving):
    img = Image.fromarray(moving[0][0])
    late = 1.1 + 2 * J.GAP_S
    t = iter([0.0, 0.1, 1.0, 1.1, late, late + 0.1])
    h = J.camera_step(MODEL, img, None, clock=lambda: next(t))
    h = J.camera_step(MODEL, img, h, clock=lambda: next(t))
    assert len(h["frame"]) == 2
    h = J.camera_step(MODEL, img, h, clock=lambda: next(t))  # twice GAP_S after the last frame
    assert len(h["frame"]) == 1
    h2 = J.camera_step("heatmap-s8", img, h, clock=lambda: late + 0.2)
    assert len(h2["frame"]) == 1 and h2["model"] == "heatmap-s8"


def test_a_larger_frame_gives_camera_px(moving):
    """A frame twice the size (each pixel doubled): the tracks come back in its px, a cell is twice as wide."""
    images = moving[0][:8]
    history = None
    for frame in images:
        history = V.jitter_webcam(frame.repeat(2, 0).repeat(2, 1), MODEL, "l_wrist", history)["history"]
    small = None
    for frame in images:
        small = V.jitter_webcam(frame, MODEL, "l_wrist", small)["history"]
    stride = kp.get_model(MODEL).stride
    assert history["cell"] == (2 * stride, 2 * stride)
    assert J.staircase(J.camera_tracks(history, 6)["argmax"][:, 0], 2 * stride)["whole_strides"]
    # the same figure: the estimates agree to within a cell of the small frame, in the large frame's px
    assert np.abs(history["coords"] / 2 - small["coords"]).mean() < stride


def test_a_streamed_jpeg_data_url_is_read(moving):
    buf = io.BytesIO()
    Image.fromarray(moving[0][0]).save(buf, format="JPEG", quality=90)
    url = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    out = V.jitter_webcam(url, MODEL, "l_wrist", None)
    assert len(out["history"]["frame"]) == 1
    assert "of the 6 frames" in out["text"]
    # the component hands the page's data URL to the view as it came (no decoding by Gradio)
    comp = ui.WebcamFrame(sources=["webcam"], streaming=True, render=False)
    assert comp.preprocess({"url": url, "path": None}) == url
    assert comp.preprocess(None) is None


@pytest.mark.parametrize("frame, sentence", [
    (None, V.NO_FRAME),
    ("data:image/jpeg;base64,!!!not base64", V.BROKEN_FRAME),
    ("data:image/jpeg;base64," + base64.b64encode(b"not an image at all").decode(), V.BROKEN_FRAME),
    (np.zeros((0, 0, 3), np.uint8), V.BROKEN_FRAME),
])
def test_a_bad_frame_gets_one_sentence_and_the_figures_stay(frame, sentence):
    with pytest.raises(UserInputError) as e:
        V.jitter_webcam(frame, MODEL, "l_wrist", None)
    assert sentence in str(e.value)
    assert set(e.value.outputs) == {"text"}  # the page shows the sentence; the tracks and the history stay
    with pytest.raises(gr.Error, match="camera"):  # an API caller gets the same sentence
        ui.handler(V.jitter_webcam, ["tracks", "text", "history"])(frame, MODEL, "l_wrist", None)


def test_a_frame_unlike_the_renders_says_so_and_what_works(moving):
    grey = np.full((480, 640, 3), 128, np.uint8)
    text = V.jitter_webcam(grey, MODEL, "l_wrist", None)["text"]
    assert "looks unlike the training renders" in text and "example figure" in text
    assert "unlike" not in V.jitter_webcam(moving[0][0], MODEL, "l_wrist", None)["text"]


# -- the sentences against the numbers beside them ----------------------------------------------------------------

def _bounds(stats):
    return ({d: min(s["halves"]) for d, s in stats.items()}, {d: max(s["halves"]) for d, s in stats.items()})


@settings(max_examples=80, deadline=None)
@given(frames=st.integers(J.MIN_FRAMES, 60), seed=st.integers(0, 2**31 - 1),
       amp=st.lists(st.sampled_from([0.0, 0.05, 0.3, 1.0, 4.0]), min_size=len(kp.DECODERS), max_size=len(kp.DECODERS)))
def test_order_is_stated_only_beyond_the_spread(frames, seed, amp):
    rng = np.random.default_rng(seed)
    drift = np.cumsum(np.full((frames, 2), 0.1), 0)
    tracks = {d: drift + a * rng.normal(size=(frames, 2)) for d, a in zip(kp.DECODERS, amp)}
    stats = J.camera_stats(tracks)
    text = J.order_sentence(stats, frames)
    lo, hi = _bounds(stats)
    lab = kp.DECODER_LABELS
    assert f"Over the last {frames} frames" in text
    best = min(stats, key=lambda d: stats[d]["jitter"])
    if "jitters least" in text:
        assert f"**{lab[best]}** jitters least" in text
        assert all(hi[best] < lo[d] for d in stats if d != best)
        assert "within the spread of " + lab[best] not in text
    else:
        assert f"the lowest jitter is {lab[best]}'s" in text and "within the spread of" in text
        assert any(lo[d] <= hi[best] for d in stats if d != best)
    a, s = "argmax", "soft_argmax"
    if "Arg-max jitters more than" in text:
        assert lo[a] > hi[s]
    elif "Arg-max jitters less than" in text:
        assert hi[a] < lo[s]
    else:
        assert "Arg-max and integral (soft-argmax) are within the spread of each other" in text
        assert not (lo[a] > hi[s] or hi[a] < lo[s])


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.sampled_from([0.0, 0.0, 0.0, 8.0, -8.0, 16.0, 3.0]), min_size=J.MIN_FRAMES - 1,
                      max_size=40))
def test_staircase_sentence_counts_the_jumps(steps):
    track = np.stack([10 + np.cumsum([0.0] + steps), np.full(len(steps) + 1, 20.0)], 1)
    text = J.staircase_sentence(track, (8.0, 8.0), "l wrist")
    n = sum(s != 0 for s in steps)
    if n == 0:
        assert "did not move" in text
    else:
        assert f"jumped in {n} of {len(steps)} frame steps" in text and f"the other {len(steps) - n}." in text
        whole = all(s % 8 == 0 for s in steps)
        assert ("(every jump a whole number of cells" in text) == whole
        assert ("not every jump" in text) == (not whole)


@settings(max_examples=60, deadline=None)
@given(shares=st.lists(st.floats(0, 1), min_size=1, max_size=60), peak=st.floats(0, 1),
       head=st.sampled_from(["heatmap", "integral"]))
def test_unlike_sentence_only_for_a_frame_below_the_renders(shares, peak, head):
    share = np.array(shares)
    h = {"share": share, "peak": np.full(len(share), peak), "head": head, "references": 128}
    text = J.unlike_sentence(h)
    limit = kp.analysis.OOD_SHARE
    assert bool(text) == (share[-1] >= limit)
    if text:
        assert f"lower than on {share[-1]:.0%} of 128 held-out renders" in text
        assert f"; {int((share >= limit).sum())} of the last {len(share)} frames were)" in text


def test_readme_and_docstring_state_the_streams_bounds_as_declared():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    para = readme.split("**Jitter from the webcam**", 1)[1].split("\n\n", 1)[0].replace("\n", " ")
    for text in (f"a frame every {V.STREAM_EVERY:g} s", f"{V.STREAM_LIMIT_S} s per recording",
                 f"{V.STREAMS} streams computed at once", f"the last {J.KEEP} frames",
                 "{width}×{height} asked".format(**{k: v["ideal"] for k, v in V.CAMERA["video"].items()})):
        assert text in para, text
    assert f"the last {J.KEEP} frames" in " ".join(V.jitter_webcam.__doc__.split())
