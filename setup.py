"""Packaging beyond what pyproject.toml can say: the shipped weights stay in the repository's
top-level `models/` folder and travel in the wheel as the package data `handwriting/_models`
(found there by `handwriting.results.models_dir`), so a plain `pip install .` carries them."""

from setuptools import find_namespace_packages, setup

setup(
    packages=find_namespace_packages(include=["handwriting*", "gui*"]) + ["handwriting._models"],
    package_dir={"handwriting._models": "models"},
)
