"""Connections to ad networks and social shops (docs/channels.md): one `PUT` per network with
that network's fields, checked with the network when saved; `GET` shows each one's state."""

from collections.abc import Awaitable, Callable

from fastapi import Response

from api.deps import SecretKey, SessionDep, SettingsDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.channels import CONNECTION_INPUTS, ChannelList, ChannelOut, ConnectionIn
from models import ChannelConnection
from services.channels import connections
from services.channels.connections import ChannelKeys, ConnectionState, Network

router = guarded_router(tags=["channels"], responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA})


def shown(row: ChannelConnection) -> ChannelOut:
    return ChannelOut(
        network=Network(row.network),
        state=ConnectionState(row.state),
        account_name=row.account_name,
        ids=row.ids,
        credentials=row.masked,
        api_base_url=row.api_base_url,
        last_error=row.last_error,
        checked_at=row.checked_at,
        updated_at=row.updated_at,
    )


def _saver(network: Network, model: type[ConnectionIn]) -> Callable[..., Awaitable[ChannelOut]]:
    async def save(
        body: model,  # type: ignore[valid-type]
        session: SessionDep,
        caller: SecretKey,
        settings: SettingsDep,
    ) -> ChannelOut:
        fields = body.model_dump(exclude={"api_base_url"}, exclude_none=True)  # type: ignore[attr-defined]
        row = await connections.save_connection(
            session,
            caller.store_id,
            network,
            {k: str(v) for k, v in fields.items()},
            body.api_base_url,  # type: ignore[attr-defined]
            ChannelKeys.from_settings(settings),
        )
        return shown(row)

    save.__name__ = f"connect_{network}"
    save.__doc__ = (
        f"Connect the store to {network}: checked with the network's who-am-I call; a refused "
        "credential is a 422 naming it (nothing saved); a network that cannot be asked leaves "
        "the connection `unchecked`."
    )
    return save


for _network, _model in CONNECTION_INPUTS.items():
    router.add_api_route(
        f"/v1/channels/{_network}",
        _saver(_network, _model),
        methods=["PUT"],
        response_model=ChannelOut,
        responses={422: ERROR_SCHEMA},
    )


@router.get("/v1/channels", response_model=ChannelList)
async def list_channels(session: SessionDep, caller: SecretKey) -> ChannelList:
    """Every network, connected or not, with its state and last error."""
    rows = {r.network: r for r in await connections.list_connections(session, caller.store_id)}
    return ChannelList(
        items=[
            shown(rows[n])
            if n in rows
            else ChannelOut(network=n, state=ConnectionState.NOT_CONNECTED)
            for n in Network
        ]
    )


@router.delete("/v1/channels/{network}", status_code=204, responses={404: ERROR_SCHEMA})
async def disconnect_channel(network: Network, session: SessionDep, caller: SecretKey) -> Response:
    """Forget the connection and its credentials."""
    await connections.delete_connection(session, caller.store_id, network)
    return Response(status_code=204)
