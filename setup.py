"""The C kernels (``src/neurofocus/_kernels``), compiled at install; everything else is in pyproject.toml."""

from setuptools import Extension, setup

KERNELS = "src/neurofocus/_kernels/"
SOURCES = ("evt2.c", "evt3.c", "dat.c", "ecf.c", "polarity_table.c", "event_maps.c", "dvs_voltmeter.c",
           "streaming.c")

setup(ext_modules=[Extension("neurofocus._kernels._lib", sources=[KERNELS + name for name in SOURCES],
                             depends=[KERNELS + "records.h", KERNELS + "rng.h"], libraries=["m"],
                             extra_compile_args=["-O2", "-std=c99", "-fno-math-errno", "-Wall", "-Wextra",
                                                 "-Wconversion"])])
