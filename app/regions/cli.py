import click

regions_cli = click.Group("regions", help="Regions (wilayah).")
population_cli = click.Group("population", help="Population figures.")
