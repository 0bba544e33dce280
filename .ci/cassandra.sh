#!/usr/bin/env bash
# Runs a single-node Apache Cassandra 5.0 for Ward's integration tests, built
# from the cassandra-all jars on Maven Central (no tarball, no Docker).
#
# Usage: .ci/cassandra.sh fetch|start|stop|status
#
#   fetch   download cassandra-all and all its runtime dependencies into
#           $WARD_TEST_CACHE_DIR/cassandra-<version>/lib (skipped when cached)
#   start   fetch if needed, start Cassandra on 127.0.0.1:$CASSANDRA_PORT in
#           the background and wait until a CQL query answers
#   stop    stop the server started by `start` (by PID) and remove its data
#   status  print the PID, folder and CQL address, or exit 1 when stopped
#
# Environment:
#   CASSANDRA_VERSION       cassandra-all version (default 5.0.9)
#   CASSANDRA_PORT          CQL port (default 9042)
#   CASSANDRA_STORAGE_PORT  inter-node port (default CASSANDRA_PORT+10000)
#   CASSANDRA_HEAP          maximum heap (default 1g; initial heap is 256m)
#   CASSANDRA_START_TIMEOUT seconds to wait for CQL (default 180)
#   WARD_TEST_CACHE_DIR          jar cache (default $HOME/.cache/ward)
#   WARD_TEST_CASSANDRA_DIR      data, config, log and PID folder (default: a new
#                           mktemp folder in /dev/shm when it has 2 GiB free,
#                           else in $TMPDIR); removed by `stop`
#   JAVA_HOME               a Java 17 (default: java on PATH)
#
# This is a throw-away test server: no authentication, JMX off, system
# tables written without fsync (cassandra.unsafesystem), no snapshots on
# DROP, and by default its files in memory (/dev/shm), where schema changes
# run several times faster than on disk. Never point it at data you want
# to keep.
#
# Root: bin/cassandra refuses to run as root unless given -R; this script
# starts the JVM directly, and the daemon itself has no such check, so it
# runs as root and as any other user alike.
set -euo pipefail

CASSANDRA_VERSION=${CASSANDRA_VERSION:-5.0.9}
CASSANDRA_PORT=${CASSANDRA_PORT:-9042}
CASSANDRA_STORAGE_PORT=${CASSANDRA_STORAGE_PORT:-$((CASSANDRA_PORT + 10000))}
CASSANDRA_HEAP=${CASSANDRA_HEAP:-1g}
CASSANDRA_START_TIMEOUT=${CASSANDRA_START_TIMEOUT:-180}
CACHE_ROOT=${WARD_TEST_CACHE_DIR:-$HOME/.cache/ward}
HOME_DIR="$CACHE_ROOT/cassandra-$CASSANDRA_VERSION"
LIB_DIR="$HOME_DIR/lib"
# `stop` finds the server's folder through this file.
STATE_FILE="${TMPDIR:-/tmp}/ward-cassandra-$CASSANDRA_PORT.dir"
MARKER=.ward-cassandra

JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

log() { printf 'cassandra.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# check_java insists on Java 17: Cassandra 5.0 runs on 11 and 17 only, and
# the JVM options below are its Java 17 list.
check_java() {
  command -v "$JAVA" >/dev/null || die "java not found; install Java 17 or set JAVA_HOME"
  local v
  v=$("$JAVA" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = //p')
  [[ $v == 17 ]] || die "Cassandra 5.0 needs Java 17 here, but $JAVA is Java ${v:-unknown}"
}

# new_dir makes the server's folder: in /dev/shm when it has room.
new_dir() {
  local base=${TMPDIR:-/tmp}
  if [[ -d /dev/shm && -w /dev/shm ]] &&
    (($(df -Pk /dev/shm | awk 'NR == 2 { print $4 }') >= 2 * 1024 * 1024)); then
    base=/dev/shm
  fi
  mktemp -d "$base/ward-cassandra.XXXXXX"
}

fetch() {
  if [[ -f "$LIB_DIR/.complete" ]]; then
    log "cassandra-all $CASSANDRA_VERSION cached in $LIB_DIR"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  mkdir -p "$HOME_DIR"
  cat >"$HOME_DIR/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>ward.ci</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>$CASSANDRA_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  local tmp="$HOME_DIR/lib.partial"
  rm -rf "$tmp"
  log "fetching cassandra-all $CASSANDRA_VERSION and its dependencies"
  mvn -B -q -f "$HOME_DIR/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp"
  [[ -f "$tmp/cassandra-all-$CASSANDRA_VERSION.jar" ]] ||
    die "cassandra-all-$CASSANDRA_VERSION.jar missing after fetch"
  touch "$tmp/.complete"
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  log "$(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $LIB_DIR"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# cql_query_version speaks the CQL native protocol (v4) over /dev/tcp:
# STARTUP, then `SELECT release_version FROM system.local`. It prints the
# version and succeeds only when the server answered the query with rows.
cql_query_version() {
  local port=$1
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  # STARTUP, stream 1, body {"CQL_VERSION": "3.0.0"} (22 bytes).
  printf '\x04\x00\x00\x01\x01\x00\x00\x00\x16\x00\x01\x00\x0bCQL_VERSION\x00\x053.0.0' >&3
  local op
  op=$(read_frame 3) || { exec 3>&-; return 1; }
  if [[ ${op%% *} != 2 ]]; then exec 3>&-; return 1; fi # READY
  local q='SELECT release_version FROM system.local'
  local body_len=$((4 + ${#q} + 3))
  # QUERY, stream 2: [long string] query, consistency ONE, no flags.
  printf '\x04\x00\x00\x02\x07' >&3
  local bits
  for bits in 24 16 8 0; do # body length, big-endian
    printf "\\x$(printf %02x $((body_len >> bits & 255)))" >&3
  done
  printf '\x00\x00\x00' >&3
  printf "\\x$(printf %02x ${#q})" >&3
  printf '%s\x00\x01\x00' "$q" >&3
  op=$(read_frame 3) || { exec 3>&-; return 1; }
  exec 3>&-
  [[ ${op%% *} == 8 ]] || return 1 # RESULT
  # The Rows body ends with the one [bytes] value: the version text.
  grep -Eo '[0-9]+\.[0-9]+\.[0-9]+[A-Za-z0-9.-]*$' <<<"${op#* }"
}

# read_frame reads one response frame from fd $1 and prints its opcode and
# its body with unprintable bytes turned into spaces.
read_frame() {
  local fd=$1 header len h
  header=$(timeout 10 head -c 9 <&"$fd" | od -An -tu1 -v) || return 1
  read -r -a h <<<"$header"
  [[ ${#h[@]} -eq 9 ]] || return 1
  len=$((h[5] << 24 | h[6] << 16 | h[7] << 8 | h[8]))
  ((len < 1048576)) || return 1
  local body=""
  if ((len > 0)); then
    body=$(timeout 10 head -c "$len" <&"$fd" | LC_ALL=C tr -c '[:print:]' ' ') || return 1
  fi
  printf '%s %s\n' "${h[4]}" "$body"
}

write_config() {
  local dir=$1
  cat >"$dir/conf/cassandra.yaml" <<EOF
cluster_name: ward-test
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$CASSANDRA_STORAGE_PORT"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $CASSANDRA_STORAGE_PORT
ssl_storage_port: $((CASSANDRA_STORAGE_PORT + 1))
native_transport_port: $CASSANDRA_PORT
start_native_transport: true
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
network_authorizer: AllowAllNetworkAuthorizer
data_file_directories:
  - $dir/data
commitlog_directory: $dir/commitlog
saved_caches_directory: $dir/saved_caches
hints_directory: $dir/hints
cdc_raw_directory: $dir/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
disk_failure_policy: stop
commit_failure_policy: stop
auto_snapshot: false
snapshot_before_compaction: false
hinted_handoff_enabled: false
dynamic_snitch: false
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
concurrent_materialized_view_writes: 8
compaction_throughput: 0MiB/s
read_request_timeout: 10000ms
write_request_timeout: 10000ms
cas_contention_timeout: 5000ms
request_timeout: 20000ms
EOF
  cat >"$dir/conf/logback.xml" <<'EOF'
<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="STDOUT"/>
  </root>
</configuration>
EOF
}

# jvm_options: the Java 17 list of Cassandra 5.0 (jvm17-server.options and
# the relevant lines of jvm-server.options) plus the test settings.
jvm_options() {
  local dir=$1
  cat <<EOF
-Xms256m
-Xmx$CASSANDRA_HEAP
-Xss256k
-ea
-da:net.openhft...
-XX:+UseThreadPriorities
-XX:+UseTLAB
-XX:+ResizeTLAB
-XX:+PerfDisableSharedMem
-XX:+UseG1GC
-XX:+ParallelRefProcEnabled
-XX:MaxTenuringThreshold=1
-XX:G1RSetUpdatingPauseTimePercent=5
-XX:MaxGCPauseMillis=300
-XX:InitiatingHeapOccupancyPercent=70
-XX:+HeapDumpOnOutOfMemoryError
-XX:+ExitOnOutOfMemoryError
-XX:HeapDumpPath=$dir/logs
-Djava.net.preferIPv4Stack=true
-Djdk.attach.allowAttachSelf=true
--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
--add-exports=java.base/sun.nio.ch=ALL-UNNAMED
--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED
--add-exports=java.sql/java.sql=ALL-UNNAMED
--add-exports=java.base/java.lang.ref=ALL-UNNAMED
--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED
--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED
--add-opens=java.base/java.lang.module=ALL-UNNAMED
--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED
--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED
--add-opens=java.base/jdk.internal.math=ALL-UNNAMED
--add-opens=java.base/jdk.internal.module=ALL-UNNAMED
--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED
--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED
--add-opens=java.base/java.io=ALL-UNNAMED
--add-opens=java.base/java.nio=ALL-UNNAMED
--add-opens=java.base/java.util.concurrent=ALL-UNNAMED
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED
--add-opens=java.base/java.math=ALL-UNNAMED
--add-opens=java.base/java.net=ALL-UNNAMED
--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
--add-opens=java.base/java.lang=ALL-UNNAMED
--add-opens=java.base/java.util=ALL-UNNAMED
-Dio.netty.tryReflectionSetAccessible=true
-Dio.netty.allocator.useCacheForAllThreads=true
-Dio.netty.allocator.maxOrder=11
-Dcassandra-foreground=yes
-Dcassandra.config=file://$dir/conf/cassandra.yaml
-Dcassandra.storagedir=$dir
-Dcassandra.logdir=$dir/logs
-Dlogback.configurationFile=$dir/conf/logback.xml
-Dcassandra.skip_wait_for_gossip_to_settle=0
-Dcassandra.unsafesystem=true
-Dcassandra.available_processors=$(nproc)
EOF
}

start() {
  check_java
  if port_open "$CASSANDRA_PORT"; then
    die "127.0.0.1:$CASSANDRA_PORT is already in use"
  fi
  if port_open "$CASSANDRA_STORAGE_PORT"; then
    die "127.0.0.1:$CASSANDRA_STORAGE_PORT (storage port) is already in use"
  fi
  fetch

  local dir
  if [[ -n ${WARD_TEST_CASSANDRA_DIR:-} ]]; then
    dir=$WARD_TEST_CASSANDRA_DIR
    mkdir -p "$dir"
    [[ -z $(ls -A "$dir") ]] || die "WARD_TEST_CASSANDRA_DIR $dir is not empty"
  else
    dir=$(new_dir)
  fi
  dir=$(cd "$dir" && pwd)
  touch "$dir/$MARKER"
  mkdir -p "$dir"/{conf,data,commitlog,saved_caches,hints,cdc_raw,logs}
  write_config "$dir"
  printf '%s\n' "$dir" >"$STATE_FILE"

  local -a opts
  mapfile -t opts < <(jvm_options "$dir")
  local started=$SECONDS t0
  t0=$(date +%s.%N)
  nohup "$JAVA" "${opts[@]}" -cp "$LIB_DIR/*" org.apache.cassandra.service.CassandraDaemon \
    >"$dir/logs/cassandra.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$dir/cassandra.pid"
  log "started PID $pid, data and log in $dir"

  local version=""
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "Cassandra exited during start; last lines of $dir/logs/cassandra.log:"
      tail -n 40 "$dir/logs/cassandra.log" | cut -c1-300 >&2
      log "the log stays in $dir until \`$0 stop\`"
      return 1
    fi
    if port_open "$CASSANDRA_PORT" && version=$(cql_query_version "$CASSANDRA_PORT"); then
      break
    fi
    if ((SECONDS - started >= CASSANDRA_START_TIMEOUT)); then
      log "no CQL answer after ${CASSANDRA_START_TIMEOUT}s; last lines of the log:"
      tail -n 40 "$dir/logs/cassandra.log" | cut -c1-300 >&2
      kill -TERM "$pid" 2>/dev/null || true
      log "sent SIGTERM to PID $pid; the log stays in $dir until \`$0 stop\`"
      return 1
    fi
    sleep 1
  done
  local took
  took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  log "Cassandra $version answers CQL on 127.0.0.1:$CASSANDRA_PORT after ${took}s"
  echo "WARD_TEST_CASSANDRA_HOSTS=127.0.0.1:$CASSANDRA_PORT"
}

state_dir() {
  [[ -f $STATE_FILE ]] || return 1
  local dir
  dir=$(<"$STATE_FILE")
  [[ -n $dir && -f "$dir/$MARKER" ]] || return 1
  printf '%s\n' "$dir"
}

stop() {
  local dir
  if ! dir=$(state_dir); then
    log "no Cassandra started on port $CASSANDRA_PORT"
    rm -f "$STATE_FILE"
    return 0
  fi
  local pid=""
  [[ -f "$dir/cassandra.pid" ]] && pid=$(<"$dir/cassandra.pid")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    local i
    for ((i = 0; i < 60; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "PID $pid still running after 30s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped PID $pid"
  fi
  rm -rf "$dir"
  rm -f "$STATE_FILE"
  log "removed $dir"
}

status() {
  local dir pid
  dir=$(state_dir) || { echo "stopped"; return 1; }
  pid=$(<"$dir/cassandra.pid")
  if kill -0 "$pid" 2>/dev/null; then
    echo "running: PID $pid, folder $dir, CQL 127.0.0.1:$CASSANDRA_PORT"
  else
    echo "not running (PID $pid gone); folder $dir"
    return 1
  fi
}

case ${1:-} in
fetch) fetch ;;
start) start ;;
stop) stop ;;
status) status ;;
*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
