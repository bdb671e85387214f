# Stress (b): o03's pattern (send :go then exit(p, :boom) to P, which traps exits only after
# receiving :go) and o04's (send :hello then exit(p, :boom) to a non-trapping P that would
# forward the message), N times each, with P just spawned or already blocked in its receive
# (polled with Process.info); counts killed-vs-trapped and reported-vs-not.
# Run: elixir --erl "+S 2" tests/beam/stress/go_then_exit.exs   (N=... to override)
defmodule StressGoThenExit do
  @n 200_000
  def run do
    n = String.to_integer(System.get_env("N") || "#{@n}")
    parent = self()

    for mode <- [:idle, :loaded], blocked <- [false, true] do
      state = if blocked, do: "P blocked in receive", else: "P just spawned"

      o03 =
        count(mode, n, fn ->
          p =
            spawn(fn ->
              receive do: (:go -> :ok)
              Process.flag(:trap_exit, true)

              receive do
                {:EXIT, _, _} -> send(parent, :trapped)
              after
                200 -> send(parent, :no_exit)
              end
            end)

          ref = Process.monitor(p)
          if blocked, do: wait_waiting(p)
          send(p, :go)
          Process.exit(p, :boom)
          r = receive do: ({:DOWN, ^ref, :process, ^p, r} -> r)

          receive do
            m when m in [:trapped, :no_exit] -> {r, m}
          after
            0 -> {r, :killed}
          end
        end)

      IO.puts("stress o03 go then exit #{mode}, #{state}: N=#{n} #{inspect(o03)}")

      o04 =
        count(mode, n, fn ->
          p =
            spawn(fn ->
              receive do: (m -> send(parent, {:got, m}))
              receive do: (:never -> :ok)
            end)

          ref = Process.monitor(p)
          if blocked, do: wait_waiting(p)
          send(p, :hello)
          Process.exit(p, :boom)
          r = receive do: ({:DOWN, ^ref, :process, ^p, r} -> r)

          receive do
            {:got, _} -> {r, :reported}
          after
            0 -> {r, :not_reported}
          end
        end)

      IO.puts("stress o04 message then exit #{mode}, #{state}: N=#{n} #{inspect(o04)}")
    end
  end

  defp wait_waiting(p) do
    if Process.info(p, :status) == {:status, :waiting},
      do: :ok,
      else:
        (
          :erlang.yield()
          wait_waiting(p)
        )
  end

  defp count(mode, n, f) do
    with_load(mode, fn ->
      Enum.reduce(1..n, %{}, fn _, acc -> Map.update(acc, f.(), 1, &(&1 + 1)) end)
    end)
  end

  # Background load that keeps the other schedulers waking up and stealing work: one process
  # spawning short-lived processes, and 50 processes sleeping 1 ms in a loop.
  defp with_load(:idle, f), do: f.()

  defp with_load(:loaded, f) do
    churn = spawn(fn -> churn() end)
    sleepers = for _ <- 1..50, do: spawn(fn -> sleeper() end)
    r = f.()
    Enum.each([churn | sleepers], &Process.exit(&1, :kill))
    r
  end

  defp churn do
    spawn(fn -> :ok end)
    :erlang.yield()
    churn()
  end

  defp sleeper do
    Process.sleep(1)
    sleeper()
  end
end

StressGoThenExit.run()
