# tests/lib_nginx.sh — nginx on loopback for the pull stories
# (tests/integration/pull_cache.sh, tests/bench/pull.sh), sourced after
# tests/lib.sh. nginx NAME has a prefix of its own, $NGINX_DIR/nginx-NAME
# ($TMP unless set before), runs in the foreground as the test's process
# (its pid in $NGINX_NAME) and is killed on exit. Its access logs may use
# the format "paths" (method, path, status) or "sent" (path, status, body
# bytes sent).
NGINX_DIR=${NGINX_DIR:-$TMP}
NGINX_CONNECTIONS=${NGINX_CONNECTIONS:-256}

nginx_conf() {	# NAME HTTP-BLOCK: its prefix and nginx.conf
	local d=$NGINX_DIR/nginx-$1
	mkdir -p "$d/logs" "$d/tmp" "$d/cache"
	cat >"$d/nginx.conf" <<EOF
user root;
master_process off;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log;
events { worker_connections $NGINX_CONNECTIONS; }
http {
	access_log off;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	log_format paths '\$request_method \$uri \$status';
	log_format sent '\$uri \$status \$body_bytes_sent';
	$2
}
EOF
}

nginx_start() {	# NAME PORT: starts it, waits for it to answer (else exits)
	local d=$NGINX_DIR/nginx-$1
	nginx -p "$d" -c "$d/nginx.conf" 2>>"$d/logs/start.log" &
	eval "NGINX_$1=$!"
	on_exit "kill -9 $!"
	wait_http "http://127.0.0.1:$2/" ||
		{ echo "nginx $1 did not start"; cat "$d/logs/"*; exit 1; }
}
