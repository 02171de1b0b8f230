import click

cases_cli = click.Group("cases", help="Cases.")
