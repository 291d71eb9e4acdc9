/*
 * sim-int.h -- shared by the files of the simulator only: the cloud's
 * state, one call being answered, and the handlers of each service.
 *
 * All state is under sim->mtx; handlers run with it held.  Times are
 * monotonic milliseconds (due, since) except the *_wall fields, which
 * are wall-clock milliseconds shown to clients.
 */
#ifndef SIM_INT_H
#define SIM_INT_H

#include <pthread.h>

#include "lib/lib.h"
#include "sim/sim.h"

/* Nova's microversions: 2.1 .. 2.93, as major * 1000 + minor. */
#define SIM_MV(a, b)	((a) * 1000 + (b))
#define SIM_MV_MIN	SIM_MV(2, 1)
#define SIM_MV_MAX	SIM_MV(2, 93)

/* Operations that take time, with their delays in sim->delay[]. */
enum sim_op {
	SIM_OP_NONE = 0,
	SIM_OP_STOP,
	SIM_OP_START,
	SIM_OP_EVACUATE,
	SIM_OP_MIGRATE,
	SIM_OP_LIVE_MIGRATE,
	SIM_OP_CONFIRM,
	SIM_OP_COUNT
};

struct sim_host {
	char		*name;
	char		*hypervisor;	/* hypervisor_hostname */
	char		*zone;
	char		*ip;
	int		 id;		/* hypervisor and service (< 2.53) */
	char		 service_uuid[UUID_STRLEN];
	char		 hypervisor_uuid[UUID_STRLEN];
	int		 enabled;	/* service status */
	char		*disabled_reason;
	int		 forced_down;
	int		 alive;		/* the machine runs */
	int64_t		 down_since;	/* when it died (monotonic) */
	int64_t		 report_up_ms;	/* service still "up" after death */
	int64_t		 updated_wall;
	int		 fail_incoming;	/* evacuations, migrations to it fail */
	int64_t		 incoming_ms;	/* -1, or their delay */
	int		 vcpus;
	int		 memory_mb;
};

struct sim_server {
	char		 id[UUID_STRLEN];
	char		*name;
	char		*project_id;
	char		*user_id;
	json_t		*metadata;
	char		*host;
	char		*vm_state;
	char		*task_state;	/* NULL: none */
	int		 power_state;
	int		 locked;
	char		*locked_reason;
	json_t		*fault;		/* NULL: none */
	char		*flavor;
	int64_t		 created_wall;
	int64_t		 updated_wall;
	json_t		*actions;	/* os-instance-actions, newest last */
	int		 evacuate_fails;
	int64_t		 evacuate_ms;	/* -1, or its evacuations' delay */
	/* The operation in progress. */
	enum sim_op	 op;
	int64_t		 due;
	char		*target;	/* destination host */
	char		*prev_vm_state;
	int		 migration;	/* its migration record's id, or 0 */
};

struct sim_aggregate {
	int		 id;
	char		 uuid[UUID_STRLEN];
	char		*name;
	char		*zone;
	json_t		*hosts;		/* array of names */
	json_t		*metadata;
	int64_t		 created_wall;
	int64_t		 updated_wall;
};

struct sim_migration {
	int		 id;
	char		 uuid[UUID_STRLEN];
	char		 server[UUID_STRLEN];
	char		*source;
	char		*dest;
	char		*type;		/* evacuation, migration, live-migration */
	char		*status;
	int64_t		 created_wall;
	int64_t		 updated_wall;
};

struct sim_user {
	char		 id[UUID_STRLEN];
	char		*name;
	char		*domain;	/* domain name; its id is lower case */
	char		*password;
	char		*project;	/* project name */
	json_t		*roles;		/* array of role names */
};

struct sim_project {
	char		 id[UUID_STRLEN];
	char		*name;
	char		*domain;
};

struct sim_appcred {
	char		 id[UUID_STRLEN];
	char		*name;
	char		*secret;
	struct sim_user	*user;
	char		*project;
	json_t		*roles;
};

struct sim_token {
	char		*token;
	char		 audit[24];
	struct sim_user	*user;
	struct sim_project *project;	/* NULL: unscoped */
	json_t		*roles;
	json_t		*methods;
	char		*appcred;	/* its id, or NULL */
	int64_t		 issued_wall;
	int64_t		 expires_wall;
	int64_t		 dies;		/* monotonic: refused from then on */
};

/* A failure injected on matching calls. */
struct sim_fault {
	char		*method;	/* NULL: any */
	char		*path;		/* fnmatch pattern on the path */
	char		*action;	/* server action key, or NULL */
	int		 status;
	char		*message;
	int		 times;		/* answers left; -1 for ever */
	int		 skip;		/* matching calls let through first */
	double		 retry_after;	/* -1: no header */
};

/* A change applied at a time after the start (scenario events:). */
struct sim_event {
	int64_t		 at;		/* monotonic */
	char		*host;
	json_t		*set;		/* as POST /_sim/hosts/{name} */
	int		 done;
};

struct sim {
	pthread_mutex_t		 mtx;
	char			*scenario;	/* file, or NULL */
	double			 delay_override;
	int64_t			 started;
	char			*region;
	int64_t			 delay[SIM_OP_COUNT];
	int64_t			 latency_ms;
	int64_t			 token_ttl_ms;
	int64_t			 token_dies_ms;	/* -1: with expires_at */
	uint64_t		 seq;

	struct sim_host		**hosts;
	size_t			  nhosts;
	struct sim_server	**servers;
	size_t			  nservers;
	struct sim_aggregate	**aggs;
	size_t			  naggs;
	struct sim_migration	**migs;
	size_t			  nmigs;
	struct sim_user		**users;
	size_t			  nusers;
	struct sim_project	**projects;
	size_t			  nprojects;
	struct sim_appcred	**appcreds;
	size_t			  nappcreds;
	struct sim_token	**tokens;
	size_t			  ntokens;
	struct sim_fault	**faults;
	size_t			  nfaults;
	struct sim_event	**events;
	size_t			  nevents;
};

/* One call being answered, with what the router found. */
struct sim_call {
	struct sim			*sim;
	const struct sim_request	*req;
	struct sim_response		*resp;
	json_t				*body;	/* the request body, or NULL */
	const char			*arg[2];	/* {} segments of the path */
	int				 mv;	/* Nova microversion */
	struct sim_token		*token;	/* the caller's */
	int64_t				 now;	/* monotonic */
};

/* sim-state.c */
/* Load a scenario (NULL: the built-in one) in place of the state. */
int	 sim_scenario_load(struct sim *, const char *file, char **cause);
void	 sim_state_clear(struct sim *);
void	 sim_tick(struct sim *, int64_t now);
struct sim_host	*sim_host_find(struct sim *, const char *);
struct sim_server *sim_server_find(struct sim *, const char *);
struct sim_aggregate *sim_aggregate_find(struct sim *, const char *);
struct sim_project *sim_project_find(struct sim *, const char *);
int	 sim_host_up(struct sim *, struct sim_host *, int64_t now);
int	 sim_host_set(struct sim *, struct sim_host *, json_t *, char **);
struct sim_migration *sim_migration_add(struct sim *, struct sim_server *,
	     const char *type, const char *dest);
void	 sim_time(int64_t wall, int micro, char *out);	/* 32 bytes */
void	 sim_ctl_state(struct sim_call *);
void	 sim_ctl_host(struct sim_call *);
void	 sim_ctl_fault(struct sim_call *);
void	 sim_ctl_reset(struct sim_call *);

/* sim.c: answers. */
void	 sim_reply(struct sim_call *, int status, json_t *body);
/* Nova's {"itemNotFound": {"code": 404, "message": ...}} and friends. */
void	 sim_error(struct sim_call *, int status, const char *fmt, ...)
	     printflike(3, 4);

/* sim-keystone.c */
void	 sim_ks_versions(struct sim_call *);
void	 sim_ks_version(struct sim_call *);
void	 sim_ks_issue(struct sim_call *);
void	 sim_ks_validate(struct sim_call *);
void	 sim_ks_revoke(struct sim_call *);
void	 sim_ks_appcred_create(struct sim_call *);
void	 sim_ks_appcred_list(struct sim_call *);
/* The caller's token if valid now, else NULL (for 401). */
struct sim_token *sim_ks_token(struct sim *, const char *, int64_t now);
int	 sim_ks_admin(struct sim_token *);

/* sim-nova.c */
void	 sim_nova_version(struct sim_call *);
void	 sim_nova_servers(struct sim_call *);
void	 sim_nova_servers_detail(struct sim_call *);
void	 sim_nova_server(struct sim_call *);
void	 sim_nova_action(struct sim_call *);
void	 sim_nova_instance_actions(struct sim_call *);
void	 sim_nova_server_migrations(struct sim_call *);
void	 sim_nova_services(struct sim_call *);
void	 sim_nova_service_update(struct sim_call *);
void	 sim_nova_service_legacy(struct sim_call *);
void	 sim_nova_hypervisors(struct sim_call *);
void	 sim_nova_hypervisors_detail(struct sim_call *);
void	 sim_nova_hypervisor(struct sim_call *);
void	 sim_nova_aggregates(struct sim_call *);
void	 sim_nova_aggregate(struct sim_call *);
void	 sim_nova_aggregate_action(struct sim_call *);
void	 sim_nova_migrations(struct sim_call *);
/* Finish a server's operation that is due (sim_tick). */
void	 sim_nova_finish(struct sim *, struct sim_server *, int64_t now);

#endif /* SIM_INT_H */
