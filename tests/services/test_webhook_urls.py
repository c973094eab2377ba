"""Where webhooks may go in production, judged address by address; the signing secret's
encryption at rest and the signature a receiver verifies."""

import hashlib
import hmac
import ipaddress

import pytest

from services.growth.webhook_secrets import (
    SecretUnreadable,
    decrypt_secret,
    encrypt_secret,
    signature_header,
)
from services.urls import check_webhook_url, is_public_address

NOT_PUBLIC = [
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "10.1.2.3",  # private
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # link-local: the cloud metadata service
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # unspecified
    "0.1.2.3",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",
    "::",
    "fe80::1",  # link-local
    "fc00::1",  # unique local
    "fd12:3456::1",
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "2001::1",  # Teredo
]
PUBLIC = [
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",  # a mapped public address is that address
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_a_non_public_address_is_refused(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_a_public_address_is_allowed(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # not https
        "https://127.0.0.1/hook",
        "https://10.0.0.5:8443/hook",
        "https://[::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "https://[fe80::1%25eth0]/hook",
        "https://localhost/hook",
        "https://api.localhost/hook",
        "https://user:pw@93.184.216.34/hook",
        "javascript:alert(1)",
    ],
)
def test_production_refuses(url: str) -> None:
    with pytest.raises(ValueError):
        check_webhook_url(url, local_allowed=False)


def test_production_takes_https_to_a_public_host_and_development_takes_local_http() -> None:
    assert check_webhook_url("https://93.184.216.34/hook", local_allowed=False)
    assert check_webhook_url("https://hooks.example.com/in", local_allowed=False)
    assert check_webhook_url("http://127.0.0.1:9000/hook", local_allowed=True)
    with pytest.raises(ValueError):
        check_webhook_url("ftp://127.0.0.1/hook", local_allowed=True)


def test_the_secret_is_encrypted_for_its_endpoint_and_key_only() -> None:
    stored = encrypt_secret("k" * 40, "whe_1", "whsec_abc")
    assert b"whsec_abc" not in stored
    assert decrypt_secret("k" * 40, "whe_1", stored) == "whsec_abc"
    with pytest.raises(SecretUnreadable):
        decrypt_secret("x" * 40, "whe_1", stored)
    with pytest.raises(SecretUnreadable):
        decrypt_secret("k" * 40, "whe_2", stored)  # copied onto another endpoint


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    header = signature_header("whsec_abc", 1700000000, '{"id":"whd_1"}')
    expected = hmac.new(b"whsec_abc", b'1700000000.{"id":"whd_1"}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
