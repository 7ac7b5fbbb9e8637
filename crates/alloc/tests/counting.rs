//! The counting allocator counts what is held, not what passed through.

#[global_allocator]
static ALLOCATOR: p2plab_alloc::Counting = p2plab_alloc::Counting;

#[test]
fn live_bytes_follow_allocations_growth_and_frees() {
    let start = p2plab_alloc::Counting::live();
    let mut v: Vec<u8> = Vec::with_capacity(1_000);
    assert_eq!(p2plab_alloc::Counting::live() - start, 1_000);
    v.reserve_exact(3_000);
    assert_eq!(v.capacity(), 3_000);
    assert_eq!(
        p2plab_alloc::Counting::live() - start,
        3_000,
        "a realloc counts its new size only"
    );
    let zeros = vec![0u64; 100];
    assert_eq!(p2plab_alloc::Counting::live() - start, 3_800);
    drop(v);
    drop(zeros);
    assert_eq!(p2plab_alloc::Counting::live(), start);
}
