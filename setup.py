"""The C kernels (``src/neurofocus/_kernels``), compiled at install; everything else is in pyproject.toml."""

from setuptools import Extension, setup

KERNELS = "src/neurofocus/_kernels/"

setup(ext_modules=[Extension("neurofocus._kernels._lib",
                             sources=[KERNELS + name
                                      for name in ("evt2.c", "evt3.c", "dat.c", "ecf.c", "polarity_table.c",
                                                   "event_maps.c")],
                             depends=[KERNELS + "records.h"], extra_compile_args=["-O2", "-std=c99", "-Wall",
                                                                                  "-Wextra", "-Wconversion"])])
