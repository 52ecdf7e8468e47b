"""FastAPI dependencies giving handlers the app's shared objects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.backends.base import Backend
from service.catalogue import Catalogue
from service.pipeline import Pipeline
from service.resolver import Resolver
from service.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_catalogue(request: Request) -> Catalogue:
    return request.app.state.catalogue


def get_backend(request: Request) -> Backend:
    return request.app.state.backend


def get_pipeline(request: Request) -> Pipeline:
    return request.app.state.pipeline


def get_resolver(request: Request) -> Resolver:
    return request.app.state.resolver


SettingsDep = Annotated[Settings, Depends(get_settings)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
BackendDep = Annotated[Backend, Depends(get_backend)]
PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
ResolverDep = Annotated[Resolver, Depends(get_resolver)]
