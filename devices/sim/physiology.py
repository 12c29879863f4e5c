"""A simulated person: breathing, heart-rate modulation and beats (docs/science.md §6).

The heart rate of one person is modelled in beats per minute on a regular time grid::

    HR(t) = mean_hr + RSA(t) + slow(t)

* **RSA** — respiratory sinus arrhythmia: ``-A(f_b)·depth·vagal(t)·cos(ψ(t) + θ(f_b))``,
  where ``ψ`` is the breathing phase (0 at the start of an inhalation, π at its end, so HR
  peaks at the end of the inhalation), ``f_b`` the instantaneous breathing frequency and
  ``A(f)·e^{iθ(f)}`` the closed-loop response of the heart-rate baroreflex to the breathing
  drive (:func:`baroreflex_response`): a negative-feedback loop with a delay resonates where
  the delayed feedback comes back in phase with the drive, near 0.1 Hz (Vaschillo et al.
  2002, doi:10.1023/A:1014587304314; Vaschillo, Vaschillo & Lehrer 2006,
  doi:10.1007/s10484-006-9009-3). At resonance HR and breathing are in phase (θ = 0); below
  it HR leads, above it HR lags. This reproduces the cardiovascular resonance that makes slow
  paced breathing near 6 breaths/min raise HRV (Lehrer, Vaschillo & Vaschillo 2000,
  doi:10.1023/A:1009554825745).
* **slow** — Mayer-wave LF noise around 0.1 Hz, VLF drift around 0.02 Hz and arousal episodes
  (HR rises by a few bpm for tens of seconds while RSA shrinks: vagal withdrawal). This is the
  part a dyad couples (:mod:`devices.sim.dyad`).

Breathing is spontaneous (cycle-by-cycle irregular durations and depths) or follows a pacer
schedule with a lag and a little phase wander. Beats come from an integral pulse frequency
modulation (IPFM) generator: a beat fires each time the integral of the instantaneous heart rate
crosses the next integer (Mateo & Laguna 2000, doi:10.1109/10.827288).

Why one module of this size: one model. RSA through the baroreflex loop, breathing, the
slow components and the IPFM beats all read the same :class:`PersonParams`, and their
parameters are tuned against each other (docs/validation.md, the simulator).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
from numpy.typing import NDArray

#: Sampling rate of the modulation grid in Hz (breathing is below 0.7 Hz; IPFM is exact
#: between grid points because the integral is interpolated linearly).
GRID_RATE_HZ = 10.0

PacerSchedule = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class PersonParams:
    """Settings of one simulated person.

    Parameters
    ----------
    mean_hr_bpm
        Mean heart rate in beats per minute (the time average of ``HR(t)``).
    breathing_rate_bpm
        Spontaneous breathing rate in breaths per minute (used outside pacer steps).
    breathing_cv
        Cycle-to-cycle coefficient of variation of spontaneous breath durations.
    depth_cv
        Cycle-to-cycle coefficient of variation of breath depth (scales the RSA of that breath).
    pacer
        Pacer schedule: ``((t_s, rate_bpm), ...)`` sorted by time. From each ``t_s`` on the person
        breathes at ``rate_bpm`` following the pacer; a rate ``<= 0`` means "back to spontaneous
        breathing". Before the first entry breathing is spontaneous. Empty: never paced.
    pacer_lag_s
        How far the person's breathing trails the pacer, in seconds (:func:`draw_person
        <devices.sim.scenarios.draw_person>` draws it per person: people differ).
    inhale_ratio, pacer_inhale_ratio
        Fraction of each breath spent inhaling, breathing spontaneously and following the pacer
        (a pacer set to IN:OUT = 4:6 gives 0.4). 0.5 makes the breathing phase uniform.
    paced_phase_jitter_rad
        Standard deviation of the slow wander of the breathing phase around the pacer, in radians.
    resonance_rate_bpm
        Resonance frequency of the person's baroreflex loop in breaths per minute (adults 4.5–6.5).
    rsa_bpm
        RSA amplitude (half of the peak-to-trough HR swing, bpm) at the spontaneous breathing
        rate, far from resonance.
    resonance_gain
        How many times larger the RSA amplitude is when breathing exactly at resonance
        (sets the loop gain: ``1 − 1/gain``).
    resonance_width_hz
        None (default): the resonance curve and phase are those of the closed baroreflex loop
        (:func:`baroreflex_response`; its sharpness follows from the gain and the delay).
        A number: the earlier phenomenological model, a Lorentzian peak with this half width
        at half maximum (Hz) and half a resonator's phase — kept to compare with.
    lf_bpm
        Standard deviation of the Mayer-wave (LF) HR noise in bpm.
    lf_peak_hz
        Centre frequency of the LF noise in Hz; None (default) puts it at the resonance frequency,
        since both are the same baroreflex rhythm (Vaschillo et al. 2002).
    vlf_bpm
        Standard deviation of the VLF drift in bpm.
    arousal_per_min
        Mean number of arousal episodes per minute (Poisson).
    arousal_bpm
        Largest HR rise of an arousal episode in bpm (each draws between 40% and 100% of it).
    """

    mean_hr_bpm: float = 70.0
    breathing_rate_bpm: float = 12.0
    breathing_cv: float = 0.1
    depth_cv: float = 0.2
    pacer: PacerSchedule = ()
    pacer_lag_s: float = 0.6
    inhale_ratio: float = 0.5
    pacer_inhale_ratio: float = 0.5
    paced_phase_jitter_rad: float = 0.25
    resonance_rate_bpm: float = 6.0
    rsa_bpm: float = 3.2
    resonance_gain: float = 3.5
    resonance_width_hz: float | None = None
    lf_bpm: float = 1.0
    lf_peak_hz: float | None = None
    vlf_bpm: float = 0.8
    arousal_per_min: float = 0.12
    arousal_bpm: float = 4.0

    def __post_init__(self) -> None:
        if not 25.0 <= self.mean_hr_bpm <= 200.0:
            raise ValueError(f"mean_hr_bpm out of range: {self.mean_hr_bpm}")
        if not 2.0 <= self.breathing_rate_bpm <= 40.0:
            raise ValueError(f"breathing_rate_bpm out of range: {self.breathing_rate_bpm}")
        if not 2.0 <= self.resonance_rate_bpm <= 12.0:
            raise ValueError(f"resonance_rate_bpm out of range: {self.resonance_rate_bpm}")
        for ratio in (self.inhale_ratio, self.pacer_inhale_ratio):
            if not 0.2 <= ratio <= 0.8:
                raise ValueError(f"inhale ratio must be in [0.2, 0.8]: {ratio}")
        times = [t for t, _ in self.pacer]
        if times != sorted(times):
            raise ValueError("pacer schedule must be sorted by time")
        for _, rate in self.pacer:
            if rate > 40.0:
                raise ValueError(f"pacer rate out of range: {rate}")

    def rsa_response(
        self, breathing_rate_hz: NDArray[np.float64] | float
    ) -> NDArray[np.complex128]:
        """Complex RSA response at a breathing frequency: amplitude (bpm) and phase (rad).

        Closed-loop model by default (:func:`baroreflex_response` scaled by ``rsa_bpm``); the
        Lorentzian model when ``resonance_width_hz`` is set.
        """
        f = np.asarray(breathing_rate_hz, dtype=np.float64)
        f_res = self.resonance_rate_bpm / 60.0
        if self.resonance_width_hz is None:
            loop, scale = self.baroreflex_loop()
            return cast("NDArray[np.complex128]", scale * loop.response(f))
        x = (f - f_res) / self.resonance_width_hz
        amp = self.rsa_bpm * (1.0 + (self.resonance_gain - 1.0) / (1.0 + x * x))
        return cast("NDArray[np.complex128]", amp * np.exp(-0.5j * np.arctan(x)))

    def baroreflex_loop(self, dt_s: float = 1.0 / GRID_RATE_HZ) -> tuple[BaroreflexLoop, float]:
        """The person's closed baroreflex loop and the open-loop drive amplitude (bpm).

        Calibrated so the parameters keep their meaning: the closed-loop RSA amplitude is
        ``rsa_bpm`` at the spontaneous breathing rate and ``rsa_bpm · resonance_gain`` at
        resonance. The loop's own peak gain ``g_loop`` solves ``g_loop / |T(f_spont)| =
        resonance_gain`` (fixed point; the feedback damps spontaneous rates a little, |T| ≈
        0.7–1.0 there), and the drive is ``rsa_bpm / |T(f_spont)|``.
        """
        loop, t_sp = _calibrated_loop(self.resonance_rate_bpm / 60.0, self.resonance_gain,
                                      self.breathing_rate_bpm / 60.0, dt_s)
        return loop, self.rsa_bpm / t_sp

    def rsa_amplitude_bpm(
        self, breathing_rate_hz: NDArray[np.float64] | float
    ) -> NDArray[np.float64]:
        """RSA amplitude (half peak-to-trough, bpm) at a breathing frequency, before depth/arousal.

        Parameters
        ----------
        breathing_rate_hz
            Breathing frequency in Hz.

        Returns
        -------
        ndarray
            ``rsa_bpm · |T(f)|`` with the closed-loop response ``T`` of
            :func:`baroreflex_response` (``rsa_bpm · gain`` at resonance); with
            ``resonance_width_hz`` set, ``rsa_bpm · (1 + (gain − 1) / (1 + ((f − f_res) /
            width)²))``.
        """
        return np.abs(self.rsa_response(breathing_rate_hz))

    def rsa_phase_rad(
        self, breathing_rate_hz: NDArray[np.float64] | float
    ) -> NDArray[np.float64]:
        """Phase of the HR oscillation relative to lung volume (rad): about 0 at resonance.

        Positive (HR leads) below resonance, negative (HR lags) above it. Closed-loop model:
        the argument of :func:`baroreflex_response` (about +10° at the amplitude peak, within
        about ±60° over 4.5–6.5/min); Lorentzian model: ``-0.5·arctan((f − f_res) / width)``.
        """
        return cast("NDArray[np.float64]", np.angle(self.rsa_response(breathing_rate_hz)))


#: Time constants (s) of the two first-order low-pass stages in the baroreflex loop: the
#: arterial Windkessel (diastolic pressure decay, about 1.5 s in adults; Westerhof, Lankhaar &
#: Westerhof 2009, doi:10.1007/s11517-008-0359-2) and a faster stage for the baroreceptor and
#: sinus-node response (1 s, an assumption). Two stages keep the loop from ringing again
#: above the resonance (|T| stays within 0.8–1.25 from 0.15 to 0.5 Hz).
BAROREFLEX_LOWPASS_S: tuple[float, float] = (1.5, 1.0)


@dataclass(frozen=True, slots=True)
class BaroreflexLoop:
    """The heart-rate baroreflex as a discrete closed loop on the simulation grid.

    Vaschillo et al. (2002, doi:10.1023/A:1014587304314; 2006, doi:10.1007/s10484-006-9009-3)
    explain the resonance of HRV biofeedback as that of the heart-rate baroreflex, a
    negative-feedback loop with a delay of about 5 s between an HR change and the blood
    pressure change that feeds back on HR: breathing at the frequency where the delayed
    feedback returns in phase with the drive gives the largest HR oscillation, with HR and
    breathing in phase. Here the breathing drive ``u`` (the open-loop RSA) passes through::

        y = u − K · L(y delayed by D),      T(f) = 1 / (1 + K · L(f) · e^{−i2πfD})

    with ``L`` the two first-order low-pass stages of :data:`BAROREFLEX_LOWPASS_S` and the
    delay ``D`` (≈ 2.5–4.5 s for 6.5–4.5/min, plus the low-pass's own lag) and ``K`` chosen
    so that ``|T|`` peaks exactly at the resonance frequency with height ``gain`` (the
    resonance frequency is the rate with the largest HR oscillation, Lehrer et al. 2000).
    There the phase is near 0 (HR and breathing in phase; it is exactly 0 a little above the
    peak, where the loop phase is −π). Far above resonance ``|T| → 1``; below it the
    feedback damps the oscillation. The sharpness is not a free
    parameter: it follows from the loop gain and delay (neighbouring 0.5/min steps differ by
    5–30 % in amplitude for a gain of 3.5). Run in the time domain (:meth:`run`) the loop also
    gives the build-up of the resonance after a rate change (the ringing decays by the loop
    gain every cycle, time constant ≈ 30 s for a gain of 3.5) and its response to a breathing
    rhythm that wanders.

    Everything is exact for the discrete grid (step ``dt_s``): first-order IIR stages and a
    linearly interpolated fractional delay, and :meth:`response` is their exact frequency
    response.
    """

    resonance_hz: float
    gain: float
    dt_s: float = 1.0 / GRID_RATE_HZ
    delay_s: float = field(init=False)
    k: float = field(init=False)

    def __post_init__(self) -> None:
        delay_s, k = self._solve()
        object.__setattr__(self, "delay_s", delay_s)
        object.__setattr__(self, "k", k)

    def _lowpass(self, f_hz: NDArray[np.float64] | float) -> NDArray[np.complex128]:
        z1 = np.exp(-2j * np.pi * np.asarray(f_hz, dtype=np.float64) * self.dt_s)
        out = np.ones(np.shape(z1), dtype=np.complex128)
        for tau_s in BAROREFLEX_LOWPASS_S:
            a = math.exp(-self.dt_s / tau_s)
            out = out * (1.0 - a) / (1.0 - a * z1)
        return out

    def _delay(self, f_hz: NDArray[np.float64] | float, delay_s: float
               ) -> NDArray[np.complex128]:
        n = math.floor(delay_s / self.dt_s)
        mu = delay_s / self.dt_s - n
        w = 2.0 * np.pi * np.asarray(f_hz, dtype=np.float64) * self.dt_s
        return cast("NDArray[np.complex128]",
                    (1.0 - mu) * np.exp(-1j * w * n) + mu * np.exp(-1j * w * (n + 1)))

    def _crossing(self, f_cross_hz: float, loop_gain: float) -> tuple[float, float]:
        """``(delay_s, K)`` putting loop phase −π and loop gain ``loop_gain`` at a frequency."""
        lp = complex(self._lowpass(f_cross_hz))
        delay_s = (math.pi + math.atan2(lp.imag, lp.real)) / (2.0 * math.pi * f_cross_hz)
        for _ in range(6):  # the interpolated delay's phase is not exactly linear: refine
            loop = lp * complex(self._delay(f_cross_hz, delay_s))
            err = math.remainder(math.atan2(loop.imag, loop.real) + math.pi, 2.0 * math.pi)
            delay_s += err / (2.0 * math.pi * f_cross_hz)
        loop = lp * complex(self._delay(f_cross_hz, delay_s))
        return delay_s, loop_gain / abs(loop)

    def _solve(self) -> tuple[float, float]:
        """Delay and K such that |T| peaks at ``resonance_hz`` with height ``gain``.

        The low-pass makes the loop gain larger below the −π crossing, so the amplitude peak
        sits a little below it: the crossing frequency and the loop gain there are moved
        until the peak is where and as high as asked (a few fixed-point steps).
        """
        g = max(float(self.gain), 1.0 + 1e-9)
        f_cross, loop_gain = self.resonance_hz, 1.0 - 1.0 / g
        grid = self.resonance_hz * np.linspace(0.6, 1.6, 2001)
        delay_s, k = self._crossing(f_cross, loop_gain)
        for _ in range(12):
            grid_hz = cast("NDArray[np.float64]", grid)
            t = np.abs(1.0 / (1.0 + k * self._lowpass(grid_hz) * self._delay(grid_hz, delay_s)))
            i = int(np.argmax(t))
            f_cross += self.resonance_hz - float(grid[i])
            loop_gain = min(1.0 - 1e-6, max(1e-6, 1.0 - (1.0 - loop_gain) * float(t[i]) / g))
            delay_s, k = self._crossing(f_cross, loop_gain)
        return delay_s, k

    def params(self) -> tuple[float, float]:
        """``(delay_s, K)`` of the loop."""
        return self.delay_s, self.k

    def response(self, f_hz: NDArray[np.float64] | float) -> NDArray[np.complex128]:
        """``T(f)``: ``abs`` the amplitude factor, ``angle`` the HR phase (rad, + = HR leads)."""
        delay_s, k = self.params()
        return cast("NDArray[np.complex128]",
                    1.0 / (1.0 + k * self._lowpass(f_hz) * self._delay(f_hz, delay_s)))

    def run(self, drive: NDArray[np.float64]) -> NDArray[np.float64]:
        """The closed-loop output for a drive sampled every ``dt_s`` (starting from rest)."""
        delay_s, k = self.params()
        n = math.floor(delay_s / self.dt_s)
        mu = delay_s / self.dt_s - n
        a1, a2 = (math.exp(-self.dt_s / tau) for tau in BAROREFLEX_LOWPASS_S)
        u = cast("list[float]", drive.tolist())
        y = [0.0] * len(u)
        s1 = s2 = 0.0
        for j in range(len(u)):
            i0, i1 = j - n, j - n - 1
            yd = (1.0 - mu) * (y[i0] if i0 >= 0 else 0.0) + mu * (y[i1] if i1 >= 0 else 0.0)
            s1 = a1 * s1 + (1.0 - a1) * yd
            s2 = a2 * s2 + (1.0 - a2) * s1
            y[j] = u[j] - k * s2
        return np.asarray(y)


@functools.lru_cache(maxsize=256)
def _calibrated_loop(resonance_hz: float, gain: float, spontaneous_hz: float, dt_s: float
                     ) -> tuple[BaroreflexLoop, float]:
    """The loop whose peak over its response at the spontaneous rate is ``gain``, and that
    response's magnitude (fixed point of ``g_loop = gain · |T_g_loop(f_spont)|``)."""
    g_loop = max(gain, 1.0 + 1e-6)
    loop = BaroreflexLoop(resonance_hz, g_loop, dt_s)
    for _ in range(40):
        t_sp = float(np.abs(loop.response(spontaneous_hz)))
        new = max(gain * t_sp, 1.0 + 1e-6)
        if abs(new - g_loop) < 1e-9:
            break
        g_loop = new
        loop = BaroreflexLoop(resonance_hz, g_loop, dt_s)
    return loop, float(np.abs(loop.response(spontaneous_hz)))


def baroreflex_response(f_hz: NDArray[np.float64] | float, resonance_hz: float,
                        gain: float) -> NDArray[np.complex128]:
    """Closed-loop HR response ``T(f)`` of :class:`BaroreflexLoop` (relative to open loop).

    Parameters
    ----------
    f_hz
        Breathing frequency (Hz), scalar or array.
    resonance_hz
        Resonance frequency (Hz), > 0.
    gain
        ``|T|`` at resonance (> 1).
    """
    return BaroreflexLoop(resonance_hz, gain).response(f_hz)


@dataclass(frozen=True, slots=True)
class BeatTruth:
    """True beats of one person before the strap.

    Parameters
    ----------
    t_s
        Time of each beat in seconds on the simulation clock (the end of its interval).
    rr_ms
        The interval ending at that beat in ms (unquantised).
    """

    t_s: NDArray[np.float64]
    rr_ms: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass(frozen=True, slots=True)
class Modulation:
    """The HR modulation of one person on the simulation grid.

    Parameters
    ----------
    t_s
        Grid times in seconds (``GRID_RATE_HZ``), starting before 0 to leave room for lags.
    rsa_bpm
        Breathing-driven HR modulation in bpm.
    slow_bpm
        LF + VLF + arousal modulation in bpm, zero mean (the part a dyad may couple).
    breathing_phase_rad
        Unwrapped breathing phase (0 mod 2π at each inhalation onset).
    breathing_rate_hz
        Instantaneous breathing frequency in Hz.
    arousal
        Arousal level in [0, 1].
    """

    t_s: NDArray[np.float64]
    rsa_bpm: NDArray[np.float64]
    slow_bpm: NDArray[np.float64]
    breathing_phase_rad: NDArray[np.float64]
    breathing_rate_hz: NDArray[np.float64]
    arousal: NDArray[np.float64]


def time_grid(duration_s: float, pad_s: float) -> NDArray[np.float64]:
    """The modulation grid from ``-pad_s`` to ``duration_s + 5`` s at :data:`GRID_RATE_HZ`."""
    n = math.ceil((duration_s + 5.0 + pad_s) * GRID_RATE_HZ) + 1
    return cast("NDArray[np.float64]", -pad_s + np.arange(n, dtype=np.float64) / GRID_RATE_HZ)


def band_noise(
    rng: np.random.Generator, n: int, centre_hz: float, width_hz: float, std: float
) -> NDArray[np.float64]:
    """Gaussian noise with a Gaussian-shaped spectrum, scaled to an exact standard deviation.

    Parameters
    ----------
    rng
        Random generator.
    n
        Number of samples at :data:`GRID_RATE_HZ`.
    centre_hz, width_hz
        Centre and standard deviation of the Gaussian power-spectrum shape in Hz.
    std
        Standard deviation of the result (0 gives zeros).
    """
    if std <= 0.0 or n < 4:
        return np.zeros(n)
    n_fft = 1 << (n - 1).bit_length()  # a power of two: FFT time never depends on n's factors
    spec = np.fft.rfft(rng.standard_normal(n_fft))
    f = np.fft.rfftfreq(n_fft, 1.0 / GRID_RATE_HZ)
    spec *= np.exp(-0.25 * ((f - centre_hz) / width_hz) ** 2)
    spec[0] = 0.0
    x = np.fft.irfft(spec, n_fft)[:n]
    sd = float(np.std(x))
    return cast("NDArray[np.float64]", x * (std / sd) if sd > 0 else x)


def _spontaneous_cycles(
    rng: np.random.Generator, rate_bpm: float, cv: float, span_s: float
) -> NDArray[np.float64]:
    """Durations of successive spontaneous breaths (lognormal, AR(1)-correlated, in seconds)."""
    mean_s = 60.0 / rate_bpm
    n = int(span_s / mean_s * 1.5) + 8
    sigma = math.sqrt(math.log(1.0 + cv * cv))
    z = rng.standard_normal(n)
    ar = np.empty(n)
    ar[0] = z[0]
    rho = 0.5
    for i in range(1, n):
        ar[i] = rho * ar[i - 1] + math.sqrt(1 - rho * rho) * z[i]
    return cast("NDArray[np.float64]", mean_s * np.exp(sigma * ar - 0.5 * sigma * sigma))


def _spontaneous_phase(
    rng: np.random.Generator, t: NDArray[np.float64], rate_bpm: float, cv: float
) -> NDArray[np.float64]:
    """Breathing phase with irregular cycle durations, linear within each breath."""
    cycles = _spontaneous_cycles(rng, rate_bpm, cv, float(t[-1] - t[0]) + 30.0)
    onsets = t[0] - rng.uniform(0.0, cycles[0]) + np.concatenate(([0.0], np.cumsum(cycles)))
    while onsets[-1] < t[-1]:  # pragma: no cover - the 1.5x margin makes this very rare
        more = _spontaneous_cycles(rng, rate_bpm, cv, 60.0)
        onsets = np.concatenate((onsets, onsets[-1] + np.cumsum(more)))
    return np.interp(t, onsets, 2.0 * np.pi * np.arange(len(onsets)))


def pacer_phase(t: NDArray[np.float64], schedule: PacerSchedule) -> NDArray[np.float64]:
    """The pacer's unwrapped phase at times ``t`` (rad); 0 rate outside paced steps.

    Parameters
    ----------
    t
        Times in seconds.
    schedule
        ``((t_s, rate_bpm), ...)``; rates ``<= 0`` stop the pacer.
    """
    rate_hz = pacer_rate_hz(t, schedule)
    dt = np.diff(t, prepend=t[0])
    return cast("NDArray[np.float64]", 2.0 * np.pi * np.cumsum(rate_hz * dt))


def pacer_rate_hz(t: NDArray[np.float64], schedule: PacerSchedule) -> NDArray[np.float64]:
    """The pacer rate in Hz at times ``t`` (0 where no pacer runs)."""
    rate = np.zeros(len(t))
    for i, (t0, r) in enumerate(schedule):
        t1 = schedule[i + 1][0] if i + 1 < len(schedule) else np.inf
        rate[(t >= t0) & (t < t1)] = max(r, 0.0) / 60.0
    return rate


def breathing(
    rng: np.random.Generator, t: NDArray[np.float64], person: PersonParams
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Breathing phase, instantaneous rate and per-sample breath depth of one person.

    Spontaneous stretches have irregular breath durations; paced stretches follow the pacer phase
    delayed by ``pacer_lag_s`` plus a slow phase wander, entering from the spontaneous phase over
    about 5 s (the person catches the pacer within a breath or two).

    Returns
    -------
    phase_rad, rate_hz, depth
        Unwrapped phase, instantaneous frequency in Hz (smoothed over about one breath) and the
        relative breath depth (mean 1).
    """
    spont = _spontaneous_phase(rng, t, person.breathing_rate_bpm, person.breathing_cv)
    t_paced = cast("NDArray[np.float64]", t - person.pacer_lag_s)
    paced_rate = pacer_rate_hz(t_paced, person.pacer)
    paced = paced_rate > 0
    phase = spont.copy()
    if np.any(paced):
        target = pacer_phase(t_paced, person.pacer)
        wander = band_noise(rng, len(t), 0.0, 0.02, person.paced_phase_jitter_rad)
        # Piecewise: each paced run follows the pacer; each spontaneous run continues from
        # where the previous run ended. Offsets blend over ~5 s at each switch into pacing.
        edges = np.flatnonzero(np.diff(paced.astype(np.int8))) + 1
        starts = np.concatenate(([0], edges))
        ends = np.concatenate((edges, [len(t)]))
        for s, e in zip(starts, ends, strict=True):
            prev = phase[s - 1] if s > 0 else None
            if paced[s]:
                seg = target[s:e] + wander[s:e]
                if prev is not None:
                    step = (prev + 2.0 * np.pi * paced_rate[s] / GRID_RATE_HZ) - seg[0]
                    offset = (step + np.pi) % (2.0 * np.pi) - np.pi
                    k = np.exp(-(t[s:e] - t[s]) / 2.0)
                    seg = seg + offset * k + (step - offset)
                phase[s:e] = seg
            elif prev is not None:
                phase[s:e] = spont[s:e] - spont[s] + prev + (spont[s] - spont[s - 1])
    # Instantaneous rate, smoothed over ~4 s so the RSA amplitude changes per breath, not jitters.
    rate = np.gradient(phase, t) / (2.0 * np.pi)
    kernel = np.ones(int(4 * GRID_RATE_HZ)) / int(4 * GRID_RATE_HZ)
    rate = np.convolve(np.pad(rate, (len(kernel) // 2, len(kernel) - 1 - len(kernel) // 2),
                              mode="edge"), kernel, mode="valid")
    rate = np.clip(rate, 0.02, 1.0)
    cv = np.where(paced, person.depth_cv * 0.5, person.depth_cv)
    cycle = np.floor(phase / (2.0 * np.pi)).astype(np.int64)
    cycle -= cycle.min()
    sigma = math.sqrt(math.log(1.0 + person.depth_cv**2))
    per_cycle = np.exp(sigma * rng.standard_normal(int(cycle.max()) + 1) - 0.5 * sigma * sigma)
    depth = 1.0 + (per_cycle[cycle] - 1.0) * (cv / max(person.depth_cv, 1e-9))
    ratio = np.where(paced, person.pacer_inhale_ratio, person.inhale_ratio)
    return inhale_warp(phase, ratio), rate, depth


def inhale_warp(phase_rad: NDArray[np.float64], inhale_ratio: NDArray[np.float64] | float
                ) -> NDArray[np.float64]:
    """Map a uniform breathing phase onto inhale = [0, π), exhale = [π, 2π) of each cycle.

    Parameters
    ----------
    phase_rad
        Unwrapped phase advancing uniformly through each breath.
    inhale_ratio
        Fraction of the breath spent inhaling (0.5 leaves the phase unchanged).

    Returns
    -------
    ndarray
        The warped unwrapped phase (same cycle count, same value at every inhalation onset).
    """
    r = np.broadcast_to(np.asarray(inhale_ratio, dtype=np.float64), np.shape(phase_rad))
    if np.all(r == 0.5):
        return phase_rad
    cycles = np.floor(phase_rad / (2.0 * np.pi))
    u = phase_rad / (2.0 * np.pi) - cycles
    warped = np.where(u < r, 0.5 * u / r, 0.5 + 0.5 * (u - r) / (1.0 - r))
    return cast("NDArray[np.float64]", 2.0 * np.pi * (cycles + warped))


def arousal_level(rng: np.random.Generator, t: NDArray[np.float64], per_min: float
                  ) -> tuple[NDArray[np.float64], list[tuple[float, float, float]]]:
    """Arousal episodes: smooth plateaus of level in (0, 1].

    Episodes start as a Poisson process (``per_min``), last 30–120 s, rise over ~10 s and fall
    over ~20 s, and have a strength of 0.4–1.

    Returns
    -------
    level, episodes
        The level on ``t`` (max over overlapping episodes) and ``(start_s, end_s, strength)`` of
        each episode.
    """
    level = np.zeros(len(t))
    episodes: list[tuple[float, float, float]] = []
    if per_min <= 0:
        return level, episodes
    span = float(t[-1] - t[0])
    n = rng.poisson(per_min * span / 60.0)
    starts = np.sort(rng.uniform(t[0], t[-1], n))
    for s in starts:
        length = float(rng.uniform(30.0, 120.0))
        strength = float(rng.uniform(0.4, 1.0))
        # The shape is < 1e-6 outside [s - 30, s + length + 60] s: compute only there.
        lo, hi = np.searchsorted(t, [s - 30.0, s + length + 60.0])
        tt = t[lo:hi]
        rise = 0.5 * (1.0 + np.tanh((tt - s - 5.0) / 2.5))
        fall = 0.5 * (1.0 - np.tanh((tt - s - length + 10.0) / 5.0))
        level[lo:hi] = np.maximum(level[lo:hi], strength * rise * fall)
        episodes.append((float(s), float(s + length), strength))
    return level, episodes


def modulation(
    rng: np.random.Generator, t: NDArray[np.float64], person: PersonParams
) -> Modulation:
    """Compute one person's HR modulation components on grid ``t``.

    Parameters
    ----------
    rng
        Random generator (the only source of randomness: same state, same result).
    t
        Grid from :func:`time_grid`.
    person
        The person's settings.
    """
    phase, rate_hz, depth = breathing(rng, t, person)
    level, _ = arousal_level(rng, t, person.arousal_per_min)
    lf_hz = person.lf_peak_hz if person.lf_peak_hz is not None else person.resonance_rate_bpm / 60
    lf = band_noise(rng, len(t), lf_hz, 0.012, person.lf_bpm)
    vlf = band_noise(rng, len(t), 0.02, 0.008, person.vlf_bpm)
    slow = lf + vlf + person.arousal_bpm * level
    slow -= slow.mean()
    vagal = 1.0 - 0.5 * level
    if person.resonance_width_hz is None:
        # Drive = open-loop RSA; the closed baroreflex loop shapes it (resonance, phase,
        # build-up after a rate change).
        loop, drive_bpm = person.baroreflex_loop(float(t[1] - t[0]))
        rsa = loop.run(-drive_bpm * depth * vagal * np.cos(phase))
    else:
        response = person.rsa_response(rate_hz)
        rsa = -np.abs(response) * depth * vagal * np.cos(phase + np.angle(response))
    return Modulation(t_s=t, rsa_bpm=rsa, slow_bpm=slow, breathing_phase_rad=phase,
                      breathing_rate_hz=rate_hz, arousal=level)


def ipfm_beats(
    t: NDArray[np.float64], hr_bpm: NDArray[np.float64], first_phase: float, duration_s: float
) -> BeatTruth:
    """Beat times from an integral pulse frequency modulation (IPFM) model.

    A beat fires whenever ``∫ HR(τ)/60 dτ`` (counted from the grid start plus ``first_phase``)
    crosses an integer (Mateo & Laguna 2000, doi:10.1109/10.827288). The integral is the
    trapezoid rule on the grid and crossings are located by linear interpolation of it.

    Parameters
    ----------
    t, hr_bpm
        Grid times (s) and instantaneous heart rate (bpm).
    first_phase
        Initial value of the integral in [0, 1): where in its cycle the heart is at ``t[0]``.
    duration_s
        Keep intervals ending in ``(0, duration_s]``.

    Returns
    -------
    BeatTruth
    """
    rate = np.clip(hr_bpm, 25.0, 220.0) / 60.0
    steps = 0.5 * (rate[1:] + rate[:-1]) * np.diff(t)
    count = first_phase + np.concatenate(([0.0], np.cumsum(steps)))
    levels = np.arange(math.ceil(count[0]), math.floor(count[-1]) + 1, dtype=np.float64)
    beats = np.interp(levels, count, t)
    rr = np.diff(beats) * 1000.0
    ends = beats[1:]
    keep = (ends > 0.0) & (ends <= duration_s)
    return BeatTruth(t_s=ends[keep], rr_ms=cast("NDArray[np.float64]", rr[keep]))


def simulate_person(
    rng: np.random.Generator, person: PersonParams, duration_s: float, pad_s: float = 30.0
) -> tuple[Modulation, BeatTruth]:
    """Simulate one uncoupled person: modulation and beats.

    Parameters
    ----------
    rng
        Random generator.
    person
        Settings.
    duration_s
        Length of the simulation in seconds.
    pad_s
        Grid time before 0.

    Returns
    -------
    Modulation, BeatTruth
    """
    t = time_grid(duration_s, pad_s)
    mod = modulation(rng, t, person)
    hr = cast("NDArray[np.float64]", person.mean_hr_bpm + mod.rsa_bpm + mod.slow_bpm)
    beats = ipfm_beats(t, hr,
                       float(rng.uniform()), duration_s)
    return mod, beats


def schedule_from(steps: Sequence[tuple[float, float]], start_s: float = 0.0) -> PacerSchedule:
    """A pacer schedule from ``(rate_bpm, step_duration_s)`` steps played back to back.

    Handy for a resonance-frequency assessment: ``schedule_from([(6.5, 120), (6.0, 120), ...],
    start_s=60)`` paces 6.5/min from 60 s to 180 s, then 6/min, ... and returns to spontaneous
    breathing after the last step.
    """
    out: list[tuple[float, float]] = []
    t = start_s
    for rate_bpm, length_s in steps:
        out.append((float(t), float(rate_bpm)))
        t += length_s
    out.append((float(t), 0.0))
    return tuple(out)
