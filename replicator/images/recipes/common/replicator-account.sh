#!/bin/sh
# The account and directories every replicator container shares
# (docs/app-contract.md). Identical in every container, so it is baked into
# each layer at build time instead of being created by Ansible in each one.
set -eu
groupadd --system replicator
useradd --system --gid replicator --home-dir /var/lib/replicator --no-create-home \
    --shell /usr/sbin/nologin replicator
install -d -o root -g root -m 0755 /etc/replicator /opt/replicator /etc/supervisor/conf.d \
    /var/log/supervisor
install -d -o root -g replicator -m 0750 /etc/replicator/secrets
install -d -o replicator -g replicator -m 0750 /var/lib/replicator
