/*  tonghop-node: a reporting office with no children (DESIGN §2). */
#include "cli.h"

int
main(int argc, char **argv)
{
    return th_cli_main(argc, argv, TH_CLI_NODE, NULL, 0);
}
