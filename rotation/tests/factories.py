import factory

from rotation.models import Membership, Override, Profile, Shift, Team
from tests.factories import UserFactory


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.title())


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile
        # A second membership of one person shares the profile made with the first.
        django_get_or_create = ["user"]

    user = factory.SubFactory(UserFactory)
    phone = factory.Sequence(lambda n: f"+33 6 12 34 {n % 100:02d} 00")


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member with a profile: `MembershipFactory(profile__github_login="camille-m")`."""

    class Meta:
        model = Membership
        skip_postgeneration_save = True

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    profile = factory.RelatedFactory(ProfileFactory, user=factory.SelfAttribute("..user"))


class ShiftFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shift

    team = factory.LazyAttribute(lambda s: s.membership.team)
    membership = factory.SubFactory(MembershipFactory)


class OverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Override

    team = factory.LazyAttribute(lambda o: o.membership.team)
    membership = factory.SubFactory(MembershipFactory)
