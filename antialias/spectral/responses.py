"""Frequency responses of taps and kernels (``freqz``-style)."""

from __future__ import annotations

import numpy as np

from ._common import ArrayLike, as_array, check_fs, frequencies, grid2d, phasor

# ----------------------------------------------------------------------------- responses


def frequency_response(
    taps: ArrayLike, worN: int | ArrayLike = 512, whole: bool = False, fs: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Frequency response of 1-D FIR taps, like :func:`scipy.signal.freqz` with ``a = 1``.

    ``h[k] = sum_n taps[n] exp(-2j pi w[k] n / fs)``, phase measured from tap 0.

    Args:
        taps: 1-D taps (sequence, NumPy array or tensor), real or complex, finite.
        worN: number of frequencies (``[0, fs/2)``, or ``[0, fs)`` when ``whole``; endpoint
            excluded, as ``freqz``) or a 1-D array of frequencies in the units of ``fs``.
        whole: with an int ``worN``, cover the whole period ``[0, fs)``.
        fs: sampling frequency; 1 (default) means cycles/pixel, Nyquist 0.5. ``2*pi`` gives
            radians/sample, as ``freqz``'s default.

    Returns:
        ``(w, h)``: frequencies (units of ``fs``) and the complex response (float64/complex128).

    Shape:
        - taps: ``(K,)``
        - w, h: ``(worN,)`` or ``(len(worN),)``

    Example:
        >>> w, h = frequency_response([1, 1], worN=4)  # nearest x2: |H| = 2|cos(pi f)|
        >>> w.tolist(), np.round(np.abs(h), 4).tolist()
        ([0.0, 0.125, 0.25, 0.375], [2.0, 1.8478, 1.4142, 0.7654])
    """
    fs = check_fs(fs)
    h = as_array(taps, "taps", (1,), allow_complex=True)
    w = frequencies(worN, whole, fs)
    return w, phasor(w, h.shape[0], fs) @ h


def frequency_response2d(
    kernel: ArrayLike, worN: int | ArrayLike | tuple[ArrayLike, ArrayLike] = 64, fs: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency response of a 2-D kernel on a grid of ``(fy, fx)``.

    ``H[i, j] = sum_{m,n} kernel[m, n] exp(-2j pi (wy[i] m + wx[j] n) / fs)`` (phase from tap
    ``(0, 0)``); ``m`` runs along H (rows), ``n`` along W (columns).

    Args:
        kernel: 2-D kernel, real or complex, finite.
        worN: an int ``n`` gives the centred grid ``fftshift(fftfreq(n, 1/fs))`` on both axes
            (covers ``[-fs/2, fs/2)``, contains 0, and ``-fs/2`` when ``n`` is even); a 1-D array
            is used on both axes; a tuple ``(wy, wx)`` of 1-D arrays gives each axis its own.
        fs: sampling frequency; 1 means cycles/pixel (Nyquist 0.5).

    Returns:
        ``(wy, wx, H)`` with ``H`` complex.

    Shape:
        - kernel: ``(Ky, Kx)``
        - wy: ``(Ny,)``, wx: ``(Nx,)``, H: ``(Ny, Nx)``

    Example:
        >>> wy, wx, H = frequency_response2d(np.ones((2, 2)), worN=4)
        >>> wy.tolist(), np.round(np.abs(H[2]), 4).tolist()  # row fy = 0
        ([-0.5, -0.25, 0.0, 0.25], [0.0, 2.8284, 4.0, 2.8284])
    """
    fs = check_fs(fs)
    k = as_array(kernel, "kernel", (2,), allow_complex=True)
    wy, wx = grid2d(worN, fs)
    H = phasor(wy, k.shape[0], fs) @ k @ phasor(wx, k.shape[1], fs).T
    return wy, wx, H
