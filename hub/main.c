/*  tonghop-hub: an office with children (district, province, relay). */
#include "cli.h"
#include "hubcli.h"

int
main(int argc, char **argv)
{
    size_t n;
    const th_cli_cmd_t *cmds = th_hubcli_commands(&n);
    return th_cli_main(argc, argv, TH_CLI_HUB, cmds, n);
}
