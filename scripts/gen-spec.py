#!/usr/bin/env python3
"""Generate a large, valid service spec for benchmarks.

usage: scripts/gen-spec.py N > spec.yaml

N/2 MySQL master+replica pairs, each pair with its own parameter group, in the
seed's style (api-params, compute, capabilities, templates, resource links), so
every rule has real work to do. About 2.5 KB per service.
"""
import sys


def pair(i: int) -> str:
    m, r, g = f"Master{i}", f"Replica{i}", f"ParameterGroup{i}"
    gk = "parameterGroup%d" % i
    mk = "master%d" % i
    return f"""  {m}:
    image: 'docker.io/bitnamilegacy/mysql:8.1.0'
    ports:
      - '3306'
    volumes:
      - ./data{i}:/bitnami/mysql/data
    x-omnistrate-compute:
      instanceTypes:
        - cloudProvider: aws
          apiParam: masterInstanceType
        - cloudProvider: gcp
          apiParam: masterInstanceType
    x-omnistrate-capabilities:
      serverlessConfiguration:
        targetPort: 3306
        enableAutoStop: true
        minimumNodesInPool: 1
    environment:
      - MYSQL_REPLICATION_MODE=master
      - MYSQL_REPLICATION_USER=repl_user
      - MYSQL_REPLICATION_PASSWORD=${gk}.var.replicationPassword
      - MYSQL_PASSWORD=${gk}.var.mysqlPassword
      - MYSQL_DATABASE=${gk}.var.mysqlDatabase
      - MYSQL_USER=${gk}.var.mysqlUsername
      - MYSQL_ROOT_PASSWORD=${gk}.var.mysqlRootPassword
      - SECURITY_CONTEXT_USER_ID=1001
      - SECURITY_CONTEXT_FS_GROUP=1001
      - SECURITY_CONTEXT_GROUP_ID=0
      - MYSQL_CHARACTER_SET=utf8mb4
      - MYSQL_COLLATE=utf8mb4_unicode_ci
      - MYSQL_EXTRA_FLAGS=--max-connections=500 --innodb-buffer-pool-size=1G
    labels:
      org.example.tier: database
      org.example.role: master
      org.example.pair: "{i}"
      org.example.owner: platform-team
      org.example.cost-center: databases-{i}
      org.example.backup-policy: daily-7d
    restart: unless-stopped
    stop_grace_period: 30s
    x-omnistrate-mode-internal: false
    ulimits:
      nofile:
        soft: 65536
        hard: 65536
    logging:
      driver: json-file
      options:
        max-size: 10m
        max-file: "3"
    healthcheck:
      test: ['CMD', 'mariadb-admin', 'ping', '--silent']
      interval: 10s
      timeout: 5s
      retries: 5
    deploy:
      resources:
        limits:
          cpus: '2'
          memory: 2G
    x-omnistrate-api-params:
      - key: masterInstanceType
        description: Instance type of the master, such as t3.medium on AWS or e2-standard-2 on GCP
        name: Master Instance Type
        type: String
        modifiable: true
        required: true
        export: true
      - key: parameterGroupId
        description: Master configuration
        name: Parameter Group Id
        dependentResourceKey: {g}
        type: Resource
        modifiable: true
        required: true
        export: true
  {r}:
    image: 'docker.io/bitnamilegacy/mysql:8.1.0'
    ports:
      - '3306'
    volumes:
      - ./replica{i}:/bitnami/mysql/data
    x-omnistrate-compute:
      replicaCountAPIParam: numReadReplicas
      instanceTypes:
        - cloudProvider: aws
          apiParam: replicaInstanceType
    x-omnistrate-capabilities:
      enableMultiZone: true
      enableEndpointPerReplica: true
      autoscaling:
        minReplicas: 1
        maxReplicas: 5
        idleMinutesBeforeScalingDown: 2
        idleThreshold: 20
        overUtilizedMinutesBeforeScalingUp: 3
        overUtilizedThreshold: 80
    environment:
      - MYSQL_MASTER_HOST=${mk}.sys.network.externalClusterServerlessEndpoint.endpointName
      - MYSQL_REPLICATION_MODE=slave
      - MYSQL_REPLICATION_USER=repl_user
      - MYSQL_REPLICATION_PASSWORD=${gk}.var.replicationPassword
      - MYSQL_MASTER_ROOT_PASSWORD=${gk}.var.mysqlRootPassword
      - MYSQL_MASTER_PORT_NUMBER=${mk}.sys.network.externalClusterServerlessEndpoint.openPorts[0]
      - SECURITY_CONTEXT_USER_ID=1001
      - SECURITY_CONTEXT_FS_GROUP=1001
      - SECURITY_CONTEXT_GROUP_ID=0
      - MYSQL_CHARACTER_SET=utf8mb4
      - MYSQL_COLLATE=utf8mb4_unicode_ci
      - MYSQL_EXTRA_FLAGS=--max-connections=500 --innodb-buffer-pool-size=1G
    labels:
      org.example.tier: database
      org.example.role: replica
      org.example.pair: "{i}"
      org.example.owner: platform-team
      org.example.cost-center: databases-{i}
      org.example.backup-policy: daily-7d
    restart: unless-stopped
    stop_grace_period: 30s
    x-omnistrate-mode-internal: false
    ulimits:
      nofile:
        soft: 65536
        hard: 65536
    logging:
      driver: json-file
      options:
        max-size: 10m
        max-file: "3"
    healthcheck:
      test: ['CMD', 'mariadb-admin', 'ping', '--silent']
      interval: 10s
      timeout: 5s
      retries: 5
    deploy:
      resources:
        limits:
          cpus: '2'
          memory: 2G
    x-omnistrate-api-params:
      - key: replicaInstanceType
        description: Instance type of each read replica, such as t3.medium on AWS or e2-standard-2 on GCP
        name: Replica Instance Type
        type: String
        modifiable: true
        required: true
        export: true
      - key: masterInstanceId
        description: Instance Id of the Master to connect
        name: Master Instance Id
        dependentResourceKey: {m}
        type: Resource
        modifiable: true
        required: true
        export: true
      - key: parameterGroupId
        description: Replica configuration
        name: Parameter Group Id
        dependentResourceKey: {g}
        type: Resource
        modifiable: true
        required: true
        export: true
      - key: numReadReplicas
        description: Number of Read Replicas
        name: Number of Read Replicas
        type: Float64
        modifiable: true
        required: false
        export: true
        defaultValue: "1"
        limits:
          min: 1
          max: 10
  {g}:
    image: omnistrate/noop
    labels:
      org.example.tier: configuration
      org.example.pair: "{i}"
      org.example.owner: platform-team
    x-omnistrate-api-params:
      - key: mysqlUsername
        description: The MySQL user the application connects as; created on the master at first start
        name: Username
        type: String
        modifiable: false
        required: true
        export: true
      - key: mysqlPassword
        description: Password of the application user; stored as a secret and never shown again
        name: Password
        type: Password
        modifiable: false
        required: true
        export: false
      - key: mysqlDatabase
        description: The database created for the application at first start of the master
        name: Default Database
        type: String
        modifiable: false
        required: true
        export: true
      - key: mysqlRootPassword
        description: Password of the MySQL root user, used by replicas to reach the master
        name: Root DB Password
        type: Password
        modifiable: false
        required: true
        export: false
      - key: replicationPassword
        description: Password of the replication user the replicas connect with
        name: Replication Password
        type: Password
        modifiable: false
        required: true
        export: false
"""


def main() -> None:
    services = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    out = ['version: "3"\nx-customer-integrations:\n  logs: {}\n  metrics: {}\nservices:\n']
    # Three services per group; round up so at least `services` are emitted.
    for i in range((services + 2) // 3):
        out.append(pair(i))
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
