/*  cli: the subcommands of tonghop-node and tonghop-hub (DESIGN §2).

    git-style: `tonghop-node <command> [options]`. Exit codes: 0 success,
    1 failure (message "tonghop: error: ..." on stderr), 2 usage error,
    3 report rejected by the form's checks (each problem listed). */
#ifndef TH_CLI_H
#define TH_CLI_H

typedef enum { TH_CLI_NODE = 1, TH_CLI_HUB = 2 } th_cli_kind_t;

enum { TH_EXIT_OK = 0, TH_EXIT_FAIL = 1, TH_EXIT_USAGE = 2, TH_EXIT_REJECTED = 3 };

int th_cli_main(int argc, char **argv, th_cli_kind_t kind);

#endif
