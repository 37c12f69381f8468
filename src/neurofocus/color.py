"""Colour conversions (explicit and named: images are sRGB-encoded float32 in [0, 1] unless a function says so)."""

from __future__ import annotations

import numpy as np

#: Rec. 709 / sRGB luminance weights for linear RGB.
LUMINANCE_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], np.float32)


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light (IEC 61966-2-1), float32, same shape."""
    v = np.asarray(srgb, np.float32)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] (clipped) to sRGB-encoded values, float32, same shape."""
    v = np.clip(np.asarray(linear, np.float32), 0.0, 1.0)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * np.power(v, 1 / 2.4) - 0.055).astype(np.float32)


def luminance(linear_rgb: np.ndarray) -> np.ndarray:
    """Relative luminance Y of linear RGB (..., 3) -> (...), float32."""
    return np.asarray(linear_rgb, np.float32) @ LUMINANCE_WEIGHTS


def to_uint8(image01: np.ndarray) -> np.ndarray:
    """Values in [0, 1] to uint8 with rounding (clipped)."""
    return np.clip(np.rint(np.asarray(image01, np.float32) * 255.0), 0, 255).astype(np.uint8)


def rgb8_to_gray8(rgb8: np.ndarray) -> np.ndarray:
    """8-bit gray of 8-bit RGB (..., 3) -> (...) uint8, as OpenCV's ``IMREAD_GRAYSCALE`` computes it:
    (4899 R + 9617 G + 1868 B + 8192) >> 14 (a gray pixel keeps its value)."""
    rgb = np.asarray(rgb8).astype(np.int32)
    return ((rgb[..., 0] * 4899 + rgb[..., 1] * 9617 + rgb[..., 2] * 1868 + 8192) >> 14).astype(np.uint8)
