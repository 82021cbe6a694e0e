"""An HTTPS front for the local emulator, for tests of AWS_CA_BUNDLE: makes a throwaway CA
and a certificate for 127.0.0.1 signed by it, writes the CA to DIR/ca.pem, terminates TLS on
a free port and relays the bytes, unchanged, to the emulator.

usage: tls_proxy.py UPSTREAM_HOST:PORT DIR
Prints one line, "ready https://127.0.0.1:N", then serves until its stdin closes (so it
stops with the test that started it).
"""
import datetime
import ipaddress
import os
import socket
import ssl
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def certificate(subject, issuer, key, signer, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def write_pems(directory):
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("awsmfa test CA", "awsmfa test CA", ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = certificate("127.0.0.1", "awsmfa test CA", key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    paths = {name: os.path.join(directory, name) for name in ("ca.pem", "cert.pem", "key.pem")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths["cert.pem"], "wb") as f:
        f.write(leaf.public_bytes(pem) + ca.public_bytes(pem))
    with open(paths["key.pem"], "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def pump(src, dst):
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listener, context, upstream):
    while True:
        client, _ = listener.accept()
        try:
            tls = context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            client.close()  # the client refused our certificate: what a test may expect
            continue
        backend = socket.create_connection(upstream)
        threading.Thread(target=pump, args=(tls, backend), daemon=True).start()
        threading.Thread(target=pump, args=(backend, tls), daemon=True).start()


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    paths = write_pems(sys.argv[2])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths["cert.pem"], paths["key.pem"])
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=serve, args=(listener, context, (host, int(port))), daemon=True).start()
    print(f"ready https://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    sys.stdin.read()  # until the test closes our stdin or exits


if __name__ == "__main__":
    main()
